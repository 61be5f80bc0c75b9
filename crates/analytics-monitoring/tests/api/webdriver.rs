//! A minimal W3C WebDriver client over `reqwest` for the dashboard's browser test, driving
//! Debian's `chromium` through its `chromedriver`.
//!
//! Why by hand rather than `fantoccini` or a DevTools-protocol crate: the test needs six
//! WebDriver commands (new session, navigate, find, type, click, run a script), each one JSON
//! request over HTTP, and `reqwest` with `json` is already in the workspace. `fantoccini` would
//! add the `webdriver` crate with `cookie`, `time`, `icu_segmenter` and a second HTTP stack
//! (hyper-rustls); `chromiumoxide` (DevTools) generates tens of thousands of lines of protocol
//! types. Both cost more to build than this file costs to read.
//!
//! `scripts/ensure-chromium.sh` installs the browser; when it is missing these helpers panic
//! with the reason, so the browser test fails rather than skipping.

use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The key under which WebDriver returns an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn find_program(name: &str) -> PathBuf {
    let paths = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&paths)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/lib/chromium")])
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("{name} is not installed: run scripts/ensure-chromium.sh (apt-get install chromium chromium-driver)")
        })
}

/// A running `chromedriver`, killed when dropped.
pub struct Driver {
    child: Child,
    base: String,
    http: reqwest::Client,
}

impl Driver {
    pub async fn start() -> Self {
        let driver = find_program("chromedriver");
        let port = crm_common::testing::free_port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
        let mut me = Self { child, base, http };
        for _ in 0..200 {
            if let Ok(Some(status)) = me.child.try_wait() {
                panic!("chromedriver exited early: {status}");
            }
            if let Ok(r) = me.http.get(format!("{}/status", me.base)).send().await
                && let Ok(v) = r.json::<Value>().await
                && v["value"]["ready"] == true
            {
                return me;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver never became ready");
    }

    /// A headless Chromium session.
    pub async fn session(&self) -> Session {
        let chromium = find_program("chromium");
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--no-first-run", "--window-size=1280,1024"],
            },
        }}});
        let r: Value =
            self.http.post(format!("{}/session", self.base)).json(&caps).send().await.unwrap().json().await.unwrap();
        let id = r["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no WebDriver session: {r}")).to_owned();
        Session { base: format!("{}/session/{id}", self.base), http: self.http.clone() }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser window.
pub struct Session {
    base: String,
    http: reqwest::Client,
}

impl Session {
    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method.clone(), format!("{}{path}", self.base));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let r = req.send().await.unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
        let status = r.status();
        let v: Value = r.json().await.unwrap();
        assert!(status.is_success(), "WebDriver {method} {path}: {status} {v}");
        v["value"].clone()
    }

    pub async fn goto(&self, url: &str) {
        self.command(reqwest::Method::POST, "/url", Some(json!({"url": url}))).await;
    }

    async fn find(&self, css: &str) -> String {
        let v =
            self.command(reqwest::Method::POST, "/element", Some(json!({"using": "css selector", "value": css}))).await;
        v[ELEMENT].as_str().unwrap_or_else(|| panic!("no element {css}: {v}")).to_owned()
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.command(reqwest::Method::POST, &format!("/element/{id}/value"), Some(json!({"text": text}))).await;
    }

    pub async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.command(reqwest::Method::POST, &format!("/element/{id}/click"), Some(json!({}))).await;
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page and returns its value.
    pub async fn eval(&self, script: &str, args: Value) -> Value {
        self.command(reqwest::Method::POST, "/execute/sync", Some(json!({"script": script, "args": args}))).await
    }

    /// Polls `script` every 200 ms until it returns something truthy (not null/false/""/0), for
    /// at most `within`; panics with `what` and the page's state line otherwise.
    pub async fn wait_for(&self, what: &str, within: Duration, script: &str, args: Value) -> Value {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let v = self.eval(script, args.clone()).await;
            let truthy = !matches!(&v, Value::Null | Value::Bool(false)) && v != json!("") && v != json!(0);
            if truthy {
                return v;
            }
            if tokio::time::Instant::now() > deadline {
                let page = self
                    .eval("return (document.getElementById('status-line')||{}).textContent + ' | ' + document.body.innerText.slice(0, 2000)", json!([]))
                    .await;
                panic!("timed out waiting for {what}; page: {page}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn close(self) {
        let _ = self.http.delete(&self.base).send().await;
    }
}
