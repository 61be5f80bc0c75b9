//! The argon2id ceiling: password verifications per second on one core and on all cores. Login
//! throughput cannot exceed the all-core figure. Run: `cargo bench -p crm-foundation --bench argon2`.

use crm_foundation::auth::password::{hash_blocking, verify_blocking};
use std::time::Instant;

fn rate(threads: usize, per_thread: u32, hash: &str) -> f64 {
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..per_thread {
                    assert!(verify_blocking(hash, "Bench12345"));
                }
            });
        }
    });
    f64::from(per_thread) * threads as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let Ok(hash) = hash_blocking("Bench12345") else { return };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let one = rate(1, 40, &hash);
    let all = rate(cores, 40, &hash);
    println!("argon2id verify: {one:.1}/s on one core, {all:.1}/s on {cores} cores (the login ceiling)");
}
