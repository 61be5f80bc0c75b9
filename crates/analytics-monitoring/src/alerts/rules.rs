//! Which readings raise which alert: pure functions over a reading and the thresholds.

use crate::config::{AlertSettings, Thresholds};

/// One value a rule looks at: host metrics (`subject` = `host`) and each service's error rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// `cpu_high`, `memory_high`, `disk_high`, `error_rate_high`.
    pub alert_type: &'static str,
    pub subject: String,
    pub value: f64,
}

/// What a reading over a threshold raises.
#[derive(Debug, Clone, PartialEq)]
pub struct Firing {
    pub severity: &'static str,
    pub threshold: f64,
    pub title: String,
    pub message: String,
}

pub fn thresholds<'a>(settings: &'a AlertSettings, alert_type: &str) -> Option<&'a Thresholds> {
    match alert_type {
        "cpu_high" => Some(&settings.cpu),
        "memory_high" => Some(&settings.memory),
        "disk_high" => Some(&settings.disk),
        "error_rate_high" => Some(&settings.error_rate),
        _ => None,
    }
}

/// `critical` at or above the critical threshold, `warning` at or above the warning one, else
/// nothing (spec §3's thresholds are "≥").
pub fn evaluate(settings: &AlertSettings, r: &Reading) -> Option<Firing> {
    let t = thresholds(settings, r.alert_type)?;
    let (severity, threshold) = if r.value >= t.critical {
        ("critical", t.critical)
    } else if r.value >= t.warning {
        ("warning", t.warning)
    } else {
        return None;
    };
    let (title, message) = match r.alert_type {
        "cpu_high" => ("CPU usage high".to_owned(), format!("CPU usage {:.1}% is at or above {threshold}%", r.value)),
        "memory_high" => {
            ("Memory usage high".to_owned(), format!("Memory usage {:.1}% is at or above {threshold}%", r.value))
        }
        "disk_high" => {
            ("Disk usage high".to_owned(), format!("Disk usage {:.1}% is at or above {threshold}%", r.value))
        }
        _ => (
            format!("Error rate high: {}", r.subject),
            format!("{} logged {:.1}% errors, at or above {threshold}%", r.subject, r.value),
        ),
    };
    Some(Firing { severity, threshold, title, message })
}

/// Severities in increasing order, to escalate an open alert but never downgrade it.
pub fn rank(severity: &str) -> u8 {
    match severity {
        "critical" => 2,
        "warning" => 1,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpu(v: f64) -> Reading {
        Reading { alert_type: "cpu_high", subject: "host".into(), value: v }
    }

    #[test]
    fn thresholds_are_inclusive() {
        let s = AlertSettings::default();
        assert_eq!(evaluate(&s, &cpu(69.9)), None);
        assert_eq!(evaluate(&s, &cpu(70.0)).unwrap().severity, "warning");
        assert_eq!(evaluate(&s, &cpu(85.0)).unwrap().severity, "critical");
        let errors = Reading { alert_type: "error_rate_high", subject: "order-workflow-service".into(), value: 4.0 };
        let f = evaluate(&s, &errors).unwrap();
        assert_eq!((f.severity, f.threshold), ("warning", 3.0));
        assert!(f.message.contains("order-workflow-service"));
    }
}
