//! This host's (or container's) CPU, memory and disk, from `sysinfo`. CPU usage is measured
//! between two refreshes, so one `System` is kept and refreshed at each sample: the figure is the
//! average since the previous sample (the alert evaluator samples on its schedule).

use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use sysinfo::{Disks, System};

/// One reading.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SystemSample {
    pub cpu_percent: f64,
    pub memory_percent: f64,
    pub memory_used_mb: u64,
    pub memory_total_mb: u64,
    pub disk_percent: f64,
    pub disk_used_gb: f64,
    pub disk_total_gb: f64,
    pub timestamp: DateTime<Utc>,
}

pub struct SystemProbe {
    system: Mutex<System>,
    /// The disk reported is the one holding this directory (the service's data).
    data_dir: PathBuf,
}

fn percent(part: f64, whole: f64) -> f64 {
    if whole > 0.0 { ((part / whole) * 1000.0).round() / 10.0 } else { 0.0 }
}

impl SystemProbe {
    pub fn new(data_dir: &Path) -> Self {
        let mut system = System::new();
        system.refresh_cpu_usage();
        system.refresh_memory();
        Self { system: Mutex::new(system), data_dir: data_dir.to_path_buf() }
    }

    pub fn sample(&self) -> SystemSample {
        let (cpu, used, total) = {
            let mut s = self.system.lock().unwrap_or_else(|e| e.into_inner());
            s.refresh_cpu_usage();
            s.refresh_memory();
            // In a container the cgroup's limit is the memory there is.
            let (total, used) = match s.cgroup_limits() {
                Some(c) if c.total_memory > 0 && c.total_memory < s.total_memory() => {
                    (c.total_memory, c.total_memory.saturating_sub(c.free_memory))
                }
                _ => (s.total_memory(), s.used_memory()),
            };
            (f64::from(s.global_cpu_usage()), used, total)
        };
        let (disk_used, disk_total) = self.disk();
        const MB: u64 = 1024 * 1024;
        const GB: f64 = 1024.0 * 1024.0 * 1024.0;
        SystemSample {
            cpu_percent: (cpu * 10.0).round() / 10.0,
            memory_percent: percent(used as f64, total as f64),
            memory_used_mb: used / MB,
            memory_total_mb: total / MB,
            disk_percent: percent(disk_used as f64, disk_total as f64),
            disk_used_gb: (disk_used as f64 / GB * 10.0).round() / 10.0,
            disk_total_gb: (disk_total as f64 / GB * 10.0).round() / 10.0,
            timestamp: Utc::now(),
        }
    }

    /// `(used, total)` bytes of the disk whose mount point is the longest prefix of the data
    /// directory.
    fn disk(&self) -> (u64, u64) {
        let dir = std::fs::canonicalize(&self.data_dir).unwrap_or_else(|_| self.data_dir.clone());
        let disks = Disks::new_with_refreshed_list();
        let best = disks
            .list()
            .iter()
            .filter(|d| dir.starts_with(d.mount_point()) && d.total_space() > 0)
            .max_by_key(|d| d.mount_point().as_os_str().len());
        match best {
            Some(d) => (d.total_space().saturating_sub(d.available_space()), d.total_space()),
            None => (0, 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_is_in_range() {
        let probe = SystemProbe::new(Path::new("."));
        let s = probe.sample();
        for p in [s.cpu_percent, s.memory_percent, s.disk_percent] {
            assert!((0.0..=100.0).contains(&p), "{s:?}");
        }
        assert!(s.memory_total_mb > 0, "{s:?}");
    }
}
