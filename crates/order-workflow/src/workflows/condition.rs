//! Transition conditions: a tiny expression language, parsed when a definition is saved (so a
//! typo is a 400 naming the transition, not a stuck instance later) and evaluated against the
//! instance's variables when a task completes.
//!
//! ```text
//! condition  := "auto" | or
//! or         := and (("||" | "or") and)*
//! and        := unary (("&&" | "and") unary)*
//! unary      := ("!" | "not") unary | "(" or ")" | "true" | "false" | comparison
//! comparison := name ("==" | "!=" | "<" | "<=" | ">" | ">=") literal
//! literal    := 'text' | "text" | number | true | false | null
//! name       := [A-Za-z_][A-Za-z0-9_.]*   (dots reach into objects)
//! ```
//!
//! Written by hand: the grammar is a dozen lines, and an expression crate would bring a much
//! larger language (functions, arithmetic, assignment) than a definition should be able to say.

use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    Always(bool),
    Cmp(String, Op, Value),
    Not(Box<Cond>),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Name(String),
    Lit(Value),
    Op(Op),
    And,
    Or,
    Not,
    Open,
    Close,
}

/// Longest accepted condition: definitions are written by people, not generated.
const MAX_LEN: usize = 1000;

fn tokens(src: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::Open);
                i += 1;
            }
            ')' => {
                out.push(Tok::Close);
                i += 1;
            }
            '&' if next == Some('&') => {
                out.push(Tok::And);
                i += 2;
            }
            '|' if next == Some('|') => {
                out.push(Tok::Or);
                i += 2;
            }
            '=' if next == Some('=') => {
                out.push(Tok::Op(Op::Eq));
                i += 2;
            }
            '!' if next == Some('=') => {
                out.push(Tok::Op(Op::Ne));
                i += 2;
            }
            '!' => {
                out.push(Tok::Not);
                i += 1;
            }
            '<' | '>' => {
                let eq = next == Some('=');
                out.push(Tok::Op(match (c, eq) {
                    ('<', true) => Op::Le,
                    ('<', false) => Op::Lt,
                    (_, true) => Op::Ge,
                    _ => Op::Gt,
                }));
                i += if eq { 2 } else { 1 };
            }
            '\'' | '"' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|x| *x == c)
                    .ok_or_else(|| format!("unterminated text starting at character {}", i + 1))?;
                out.push(Tok::Lit(Value::String(chars[i + 1..i + 1 + end].iter().collect())));
                i += end + 2;
            }
            c if c.is_ascii_digit() || (c == '-' && next.is_some_and(|n| n.is_ascii_digit())) => {
                let start = i;
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                let n: f64 = text.parse().map_err(|_| format!("`{text}` is not a number"))?;
                let n = serde_json::Number::from_f64(n).ok_or_else(|| format!("`{text}` is not a number"))?;
                out.push(Tok::Lit(Value::Number(n)));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == '.') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                out.push(match word.as_str() {
                    "and" => Tok::And,
                    "or" => Tok::Or,
                    "not" => Tok::Not,
                    "true" => Tok::Lit(Value::Bool(true)),
                    "false" => Tok::Lit(Value::Bool(false)),
                    "null" => Tok::Lit(Value::Null),
                    _ => Tok::Name(word),
                });
            }
            other => return Err(format!("unexpected `{other}` at character {}", i + 1)),
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn bump(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn or(&mut self) -> Result<Cond, String> {
        let mut left = self.and()?;
        while self.peek() == Some(&Tok::Or) {
            self.at += 1;
            left = Cond::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Cond, String> {
        let mut left = self.unary()?;
        while self.peek() == Some(&Tok::And) {
            self.at += 1;
            left = Cond::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Cond, String> {
        match self.bump() {
            Some(Tok::Not) => Ok(Cond::Not(Box::new(self.unary()?))),
            Some(Tok::Open) => {
                let inner = self.or()?;
                match self.bump() {
                    Some(Tok::Close) => Ok(inner),
                    _ => Err("a `(` is not closed".into()),
                }
            }
            Some(Tok::Lit(Value::Bool(b))) => Ok(Cond::Always(b)),
            Some(Tok::Name(name)) => {
                let op = match self.bump() {
                    Some(Tok::Op(op)) => op,
                    _ => return Err(format!("expected a comparison after `{name}` (==, !=, <, <=, >, >=)")),
                };
                match self.bump() {
                    Some(Tok::Lit(v)) => Ok(Cond::Cmp(name, op, v)),
                    _ => Err(format!("expected a value ('text', a number, true, false or null) after `{name}`")),
                }
            }
            Some(t) => Err(format!("unexpected {}", describe(&t))),
            None => Err("the condition ends too early".into()),
        }
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Name(n) => format!("`{n}`"),
        Tok::Lit(v) => format!("value {v}"),
        Tok::Op(_) => "comparison operator".into(),
        Tok::And => "`&&`".into(),
        Tok::Or => "`||`".into(),
        Tok::Not => "`!`".into(),
        Tok::Open => "`(`".into(),
        Tok::Close => "`)`".into(),
    }
}

/// Parses a condition; the error says what is wrong and where.
pub fn parse(src: &str) -> Result<Cond, String> {
    let src = src.trim();
    if src.is_empty() {
        return Err("is empty (write `auto` for an unconditional transition)".into());
    }
    if src.len() > MAX_LEN {
        return Err(format!("is longer than {MAX_LEN} characters"));
    }
    if src == "auto" {
        return Ok(Cond::Always(true));
    }
    let mut p = Parser { toks: tokens(src)?, at: 0 };
    let cond = p.or()?;
    match p.peek() {
        None => Ok(cond),
        Some(t) => Err(format!("unexpected {} after a complete condition", describe(t))),
    }
}

fn lookup<'a>(vars: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    let mut parts = name.split('.');
    let mut v = vars.get(parts.next()?)?;
    for p in parts {
        v = v.as_object()?.get(p)?;
    }
    Some(v)
}

/// Whether `c` holds for `vars`. A missing variable equals `null` and nothing else; ordering
/// compares numbers only (anything else is false).
pub fn eval(c: &Cond, vars: &Map<String, Value>) -> bool {
    match c {
        Cond::Always(b) => *b,
        Cond::Not(x) => !eval(x, vars),
        Cond::And(a, b) => eval(a, vars) && eval(b, vars),
        Cond::Or(a, b) => eval(a, vars) || eval(b, vars),
        Cond::Cmp(name, op, want) => {
            let got = lookup(vars, name).unwrap_or(&Value::Null);
            match op {
                Op::Eq => same(got, want),
                Op::Ne => !same(got, want),
                _ => match (got.as_f64(), want.as_f64()) {
                    (Some(a), Some(b)) => match op {
                        Op::Lt => a < b,
                        Op::Le => a <= b,
                        Op::Gt => a > b,
                        _ => a >= b,
                    },
                    _ => false,
                },
            }
        }
    }
}

fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn parses_and_evaluates() {
        let v = vars(json!({"approval_result": "approved", "amount": 1500, "review": {"ok": true}}));
        let table = [
            ("auto", true),
            ("approval_result == 'approved'", true),
            ("approval_result == \"rejected\"", false),
            ("approval_result != 'rejected'", true),
            ("amount > 1000 && approval_result == 'approved'", true),
            ("amount <= 1000 or approval_result == 'approved'", true),
            ("!(amount >= 1500)", false),
            ("not amount < 10", true),
            ("review.ok == true", true),
            ("missing == null", true),
            ("missing == 'x'", false),
            ("approval_result > 3", false),
            ("amount == 1500.0", true),
            ("amount > -1", true),
            ("true", true),
            ("false || false", false),
        ];
        for (src, want) in table {
            let c = parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
            assert_eq!(eval(&c, &v), want, "{src}");
        }
    }

    #[test]
    fn bad_conditions_say_why() {
        let table = [
            ("", "empty"),
            ("approval_result = 'x'", "unexpected `=`"),
            ("approval_result ==", "expected a value"),
            ("approval_result", "expected a comparison"),
            ("approval_result == 'x", "unterminated"),
            ("(a == 1", "not closed"),
            ("a == 1 b == 2", "after a complete condition"),
            ("a == 1 &&", "ends too early"),
            ("a == 1.2.3", "not a number"),
        ];
        for (src, want) in table {
            let err = parse(src).unwrap_err();
            assert!(err.contains(want), "{src}: {err}");
        }
    }
}
