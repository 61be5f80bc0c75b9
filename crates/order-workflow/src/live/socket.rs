//! One socket's life: frames from its queue are written (each write bounded in time), the client
//! is pinged every `ping` and dropped when it has sent nothing — not even a pong — for `idle`,
//! and the socket closes when its token expires. A client that stops reading is cut off by
//! whichever comes first: its queue filling up, a write that does not finish, or its silence.

use super::hub::Registration;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use std::time::Duration;
use tokio::time::{Instant, timeout};

/// The limits every socket lives by.
#[derive(Debug, Clone)]
pub struct Limits {
    pub ping: Duration,
    pub idle: Duration,
    pub write_timeout: Duration,
    /// Frames waiting for one socket before it is cut off.
    pub queue: usize,
    pub max_per_user: usize,
}

/// Close codes: the token ran out (the client should reconnect with a fresh one); the client
/// fell behind or went silent.
const TOKEN_EXPIRED: u16 = 4401;
const TOO_SLOW: u16 = 1008;
const IDLE: u16 = 1001;

pub async fn run(mut socket: WebSocket, mut reg: Registration, limits: Limits, expires: Instant) {
    let mut ping = tokio::time::interval_at(Instant::now() + limits.ping, limits.ping);
    let mut heard = Instant::now();
    let close = loop {
        tokio::select! {
            frame = reg.frames.recv() => match frame {
                Some(text) => {
                    if !matches!(timeout(limits.write_timeout, socket.send(Message::Text(text))).await, Ok(Ok(()))) {
                        break None;
                    }
                }
                None => break Some((TOO_SLOW, "not reading")),
            },
            () = reg.kick.notified() => break Some((TOO_SLOW, "not reading")),
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break None,
                Some(Ok(_)) => heard = Instant::now(),
            },
            _ = ping.tick() => {
                if heard.elapsed() >= limits.idle {
                    break Some((IDLE, "idle"));
                }
                if !matches!(timeout(limits.write_timeout, socket.send(Message::Ping(Default::default()))).await, Ok(Ok(()))) {
                    break None;
                }
            }
            () = tokio::time::sleep_until(expires) => break Some((TOKEN_EXPIRED, "token expired")),
        }
    };
    if let Some((code, reason)) = close {
        let frame = Message::Close(Some(CloseFrame { code, reason: reason.into() }));
        let _ = timeout(limits.write_timeout, socket.send(frame)).await;
    }
}
