//! Which routing key (if any) message i carries. Keys matter on the wire in two ways: the crate
//! sets `StreamMessage.routing_key` only through `send_with_key`, and on a partitioned producer
//! the key (FNV-1a) instead of round-robin chooses the partition.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyMode {
    None,
    Fixed(String),
    Cycle(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyModeError(String);

impl fmt::Display for KeyModeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid --key-mode: {}", self.0)
    }
}

impl std::error::Error for KeyModeError {}

impl KeyMode {
    pub fn parse(spec: &str) -> Result<Self, KeyModeError> {
        if spec == "none" {
            return Ok(KeyMode::None);
        }
        if let Some(key) = spec.strip_prefix("fixed:") {
            if key.is_empty() {
                return Err(KeyModeError("'fixed:' needs a non-empty key".into()));
            }
            return Ok(KeyMode::Fixed(key.to_string()));
        }
        if let Some(list) = spec.strip_prefix("cycle:") {
            let keys: Vec<String> = list.split(',').map(str::to_string).collect();
            if keys.iter().any(String::is_empty) {
                return Err(KeyModeError(format!(
                    "'cycle:' needs a comma-separated list of non-empty keys, got '{list}'"
                )));
            }
            return Ok(KeyMode::Cycle(keys));
        }
        Err(KeyModeError(format!(
            "'{spec}' (expected none, fixed:KEY or cycle:K1,K2,...)"
        )))
    }

    pub fn key_for(&self, index: u64) -> Option<&str> {
        match self {
            KeyMode::None => None,
            KeyMode::Fixed(key) => Some(key),
            KeyMode::Cycle(keys) => {
                // keys is never empty: parse() rejects an empty list.
                let slot = (index % keys.len() as u64) as usize;
                Some(&keys[slot])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn none_has_no_key() {
        let mode = KeyMode::parse("none").unwrap();
        assert_eq!(mode.key_for(0), None);
        assert_eq!(mode.key_for(7), None);
    }

    #[test]
    fn fixed_always_returns_the_same_key() {
        let mode = KeyMode::parse("fixed:user-1").unwrap();
        assert_eq!(mode.key_for(0), Some("user-1"));
        assert_eq!(mode.key_for(99), Some("user-1"));
    }

    #[test]
    fn fixed_key_may_contain_colons_and_commas() {
        let mode = KeyMode::parse("fixed:a:b,c").unwrap();
        assert_eq!(mode.key_for(1), Some("a:b,c"));
    }

    #[test]
    fn cycle_walks_the_list_by_index() {
        let mode = KeyMode::parse("cycle:a,b,c").unwrap();
        let keys: Vec<_> = (0..7).map(|i| mode.key_for(i).unwrap()).collect();
        assert_eq!(keys, ["a", "b", "c", "a", "b", "c", "a"]);
    }

    #[test]
    fn malformed_specs_are_rejected_with_the_offending_text() {
        for bad in [
            "",
            "fixed:",
            "cycle:",
            "cycle:a,,b",
            "cycle:a,",
            "random",
            "fixed",
        ] {
            let err = KeyMode::parse(bad).expect_err(bad);
            assert!(err.to_string().contains("--key-mode"), "{err}");
        }
        let err = KeyMode::parse("random").unwrap_err();
        assert!(err.to_string().contains("'random'"), "{err}");
    }
}
