//! The sockets this replica holds, by user. Each socket has a bounded queue of frames waiting to
//! be written; delivery never waits on a socket: a full queue means the client is not reading,
//! and that socket is cut off (told through its `kick`) instead of buffering more. Memory per
//! socket is therefore at most `queue` frames, whatever the clients do.

use super::push::{Lang, Push};
use axum::extract::ws::Utf8Bytes;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{Notify, mpsc};
use uuid::Uuid;

struct Conn {
    id: u64,
    lang: Lang,
    tx: mpsc::Sender<Utf8Bytes>,
    kick: Arc<Notify>,
}

#[derive(Default)]
pub struct Hub {
    users: Mutex<HashMap<Uuid, Vec<Conn>>>,
    next_id: AtomicU64,
    open: AtomicUsize,
    cut_off: AtomicU64,
}

/// Why [`Hub::register`] refused a socket.
#[derive(Debug, PartialEq, Eq)]
pub struct TooMany;

/// One socket's place in the hub: its queue's receiving end and the signal that it was cut off.
/// Dropping it leaves the hub.
pub struct Registration {
    hub: Arc<Hub>,
    user_id: Uuid,
    id: u64,
    pub frames: mpsc::Receiver<Utf8Bytes>,
    pub kick: Arc<Notify>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.hub.remove(self.user_id, self.id);
    }
}

impl Hub {
    fn users(&self) -> MutexGuard<'_, HashMap<Uuid, Vec<Conn>>> {
        // A panic while holding the lock cannot leave the map half-changed (every change is one
        // insert or retain), so a poisoned lock is still safe to use.
        self.users.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A place for one more socket of `user_id`, with room for `queue` frames; refused when the
    /// user already holds `max_per_user`.
    pub fn register(
        self: &Arc<Self>,
        user_id: Uuid,
        lang: Lang,
        queue: usize,
        max_per_user: usize,
    ) -> Result<Registration, TooMany> {
        let (tx, frames) = mpsc::channel(queue.max(1));
        let kick = Arc::new(Notify::new());
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut users = self.users();
        let conns = users.entry(user_id).or_default();
        if conns.len() >= max_per_user {
            return Err(TooMany);
        }
        conns.push(Conn { id, lang, tx, kick: kick.clone() });
        self.open.fetch_add(1, Ordering::Relaxed);
        Ok(Registration { hub: self.clone(), user_id, id, frames, kick })
    }

    fn remove(&self, user_id: Uuid, id: u64) {
        let mut users = self.users();
        if let Some(conns) = users.get_mut(&user_id) {
            let before = conns.len();
            conns.retain(|c| c.id != id);
            if conns.len() < before {
                self.open.fetch_sub(1, Ordering::Relaxed);
            }
            if conns.is_empty() {
                users.remove(&user_id);
            }
        }
    }

    /// Queues `push` on every socket its recipient holds here; a socket whose queue is full is
    /// cut off. Returns how many sockets it was queued on.
    pub fn deliver(&self, push: &Push) -> usize {
        let mut frames: [Option<Utf8Bytes>; 2] = [None, None];
        let mut delivered = 0;
        let mut users = self.users();
        let Some(conns) = users.get_mut(&push.user_id) else {
            return 0;
        };
        conns.retain(|c| {
            let frame = frames[c.lang as usize].get_or_insert_with(|| push.frame(c.lang)).clone();
            match c.tx.try_send(frame) {
                Ok(()) => {
                    delivered += 1;
                    true
                }
                Err(mpsc::error::TrySendError::Full(_)) => {
                    c.kick.notify_one();
                    self.cut_off.fetch_add(1, Ordering::Relaxed);
                    self.open.fetch_sub(1, Ordering::Relaxed);
                    false
                }
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    self.open.fetch_sub(1, Ordering::Relaxed);
                    false
                }
            }
        });
        if conns.is_empty() {
            users.remove(&push.user_id);
        }
        delivered
    }

    /// Sockets held now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// Sockets cut off so far because their queue was full.
    pub fn cut_off(&self) -> u64 {
        self.cut_off.load(Ordering::Relaxed)
    }

    /// Sockets `user_id` holds here.
    pub fn held_by(&self, user_id: Uuid) -> usize {
        self.users().get(&user_id).map_or(0, Vec::len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn push(user_id: Uuid) -> Push {
        Push {
            user_id,
            id: Uuid::now_v7(),
            title: "t".into(),
            message: None,
            title_id: None,
            message_id: None,
            category: "order_status".into(),
            timestamp: Utc::now(),
        }
    }

    #[tokio::test]
    async fn a_socket_that_does_not_drain_its_queue_is_cut_off_and_others_are_kept() {
        let hub = Arc::new(Hub::default());
        let user = Uuid::now_v7();
        let mut reading = hub.register(user, Lang::Zh, 2, 4).unwrap();
        let stalled = hub.register(user, Lang::Id, 2, 4).unwrap();
        assert_eq!((hub.open(), hub.held_by(user)), (2, 2));
        for _ in 0..2 {
            assert_eq!(hub.deliver(&push(user)), 2);
            assert!(reading.frames.recv().await.is_some());
        }
        // The third finds the stalled queue full: that socket is told to go and leaves the hub.
        assert_eq!(hub.deliver(&push(user)), 1);
        tokio::time::timeout(std::time::Duration::from_secs(5), stalled.kick.notified()).await.unwrap();
        assert_eq!((hub.open(), hub.held_by(user), hub.cut_off()), (1, 1, 1));
        assert!(reading.frames.recv().await.is_some());
        drop(stalled);
        assert_eq!(hub.open(), 1, "leaving after being cut off is not counted twice");
        // Nobody else receives the user's notifications; a user's sockets are capped.
        assert_eq!(hub.deliver(&push(Uuid::now_v7())), 0);
        let more: Vec<_> = (0..3).map(|_| hub.register(user, Lang::Zh, 2, 4).unwrap()).collect();
        assert_eq!(hub.register(user, Lang::Zh, 2, 4).err(), Some(TooMany));
        drop(more);
        drop(reading);
        assert_eq!(hub.open(), 0);
    }
}
