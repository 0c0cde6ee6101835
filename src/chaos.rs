//! Chaos: injected SMTP failures, for testing how an app copes with a flaky
//! mail server. Set at start with `--chaos-triggers` or at run time through
//! `PUT /api/v1/chaos`; consulted by the SMTP session at three stages.

use parking_lot::Mutex;

/// The points of an SMTP session where chaos may strike.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// `MAIL FROM`, once the command is otherwise accepted.
    Sender,
    /// Each `RCPT TO`, once the recipient is otherwise accepted.
    Recipient,
    /// `AUTH`, after the credentials were accepted.
    Authentication,
}

/// How one stage fails: with which reply code, and how often.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Trigger {
    /// The SMTP reply code to fail with, 400 to 599.
    pub error_code: u16,
    /// Percent, 0 to 100.
    pub probability: u8,
}

/// One [`Trigger`] per [`Stage`], as `GET /api/v1/chaos` shows them. The
/// default is 451, 451 and 535, each with probability 0 (never strikes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Triggers {
    /// Applied at `MAIL FROM`.
    pub sender: Trigger,
    /// Applied at each `RCPT TO`.
    pub recipient: Trigger,
    /// Applied at a successful `AUTH`.
    pub authentication: Trigger,
}

impl Default for Triggers {
    fn default() -> Self {
        let off = |error_code| Trigger {
            error_code,
            probability: 0,
        };
        Triggers {
            sender: off(451),
            recipient: off(451),
            authentication: off(535),
        }
    }
}

impl Trigger {
    /// Validates as Mailpit does, with its error messages.
    pub fn new(error_code: u16, probability: u8) -> Result<Trigger, String> {
        if !(400..=599).contains(&error_code) {
            return Err("error code must be between 400 and 599".into());
        }
        if probability > 100 {
            return Err("probability must be between 0 and 100".into());
        }
        Ok(Trigger {
            error_code,
            probability,
        })
    }
}

/// The server's chaos state: whether chaos is enabled at all (fixed at
/// start) and the current triggers (changeable at run time).
#[derive(Debug, Default)]
pub struct Chaos {
    enabled: bool,
    triggers: Mutex<Triggers>,
}

impl Chaos {
    /// Chaos with the given triggers; when `enabled` is false it never
    /// strikes and `/api/v1/chaos` refuses to show or change it.
    pub fn new(enabled: bool, triggers: Triggers) -> Chaos {
        Chaos {
            enabled,
            triggers: Mutex::new(triggers),
        }
    }

    /// Parses `Sender:451:50,Recipient:451:10` as Mailpit's `--chaos-triggers`.
    pub fn parse_triggers(spec: &str) -> Result<Triggers, String> {
        let mut triggers = Triggers::default();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let fields: Vec<&str> = item.split(':').collect();
            let [stage, code, probability] = fields[..] else {
                return Err(format!("invalid chaos trigger: {item}"));
            };
            let code = code
                .parse()
                .map_err(|_| format!("invalid error code in {item}"))?;
            let probability = probability
                .parse()
                .map_err(|_| format!("invalid probability in {item}"))?;
            let trigger = Trigger::new(code, probability)?;
            match stage.to_ascii_lowercase().as_str() {
                "sender" => triggers.sender = trigger,
                "recipient" => triggers.recipient = trigger,
                "authentication" => triggers.authentication = trigger,
                _ => return Err(format!("unknown chaos trigger: {stage}")),
            }
        }
        Ok(triggers)
    }

    /// Whether chaos was enabled at start.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// The current triggers.
    pub fn triggers(&self) -> Triggers {
        *self.triggers.lock()
    }

    /// Replaces the triggers; sessions use them from their next roll.
    pub fn set_triggers(&self, triggers: Triggers) {
        *self.triggers.lock() = triggers;
    }

    /// The error code to fail this stage with, if chaos strikes now.
    pub fn roll(&self, stage: Stage) -> Option<u16> {
        if !self.enabled {
            return None;
        }
        let triggers = self.triggers();
        let trigger = match stage {
            Stage::Sender => triggers.sender,
            Stage::Recipient => triggers.recipient,
            Stage::Authentication => triggers.authentication,
        };
        if trigger.probability == 0 {
            return None;
        }
        let mut byte = [0u8; 1];
        let _ = getrandom::fill(&mut byte);
        // 0..=99 with negligible bias; 100 always strikes.
        (u32::from(byte[0]) * 100 / 256 < u32::from(trigger.probability))
            .then_some(trigger.error_code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rolls() {
        let t = Chaos::parse_triggers("Sender:550:100,recipient:451:0").unwrap();
        assert_eq!(
            t.sender,
            Trigger {
                error_code: 550,
                probability: 100
            }
        );
        let chaos = Chaos::new(true, t);
        assert_eq!(chaos.roll(Stage::Sender), Some(550));
        assert_eq!(chaos.roll(Stage::Recipient), None);
        assert!(Chaos::parse_triggers("Sender:200:1").is_err());
        assert!(Chaos::parse_triggers("Bogus:451:1").is_err());
        assert_eq!(Chaos::new(false, t).roll(Stage::Sender), None);
    }
}
