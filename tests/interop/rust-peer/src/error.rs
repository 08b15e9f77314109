//! One error type for the whole program: every failure ends as a single human-readable line on
//! stderr and exit status 1, so harnesses only need to distinguish success from failure.

use std::fmt;

#[derive(Debug)]
pub struct PeerError(String);

pub type PeerResult<T> = Result<T, PeerError>;

impl PeerError {
    pub fn new(message: impl Into<String>) -> Self {
        PeerError(message.into())
    }
}

impl fmt::Display for PeerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PeerError {}

impl From<std::io::Error> for PeerError {
    fn from(err: std::io::Error) -> Self {
        PeerError(format!("cannot write to stdout: {err}"))
    }
}

impl From<crate::key_mode::KeyModeError> for PeerError {
    fn from(err: crate::key_mode::KeyModeError) -> Self {
        PeerError(err.to_string())
    }
}

/// Attaches what we were doing to a crate error. The crate's own messages (for example
/// "gRPC error: status: NotFound, message: ...") are kept verbatim because interop failures are
/// diagnosed from exactly those codes.
pub trait Context<T> {
    fn context(self, doing: impl FnOnce() -> String) -> PeerResult<T>;
}

impl<T> Context<T> for Result<T, danube_client::errors::DanubeError> {
    fn context(self, doing: impl FnOnce() -> String) -> PeerResult<T> {
        self.map_err(|err| {
            // tonic's Display spells the code as prose ("The service is currently unavailable");
            // the enum name is what protocol.md and the C++ side talk about.
            let detail = match err.extract_status() {
                Some(status) => format!("gRPC status {:?}: {}", status.code(), status.message()),
                None => with_causes(&err),
            };
            PeerError(format!("{} failed: {detail}", doing()))
        })
    }
}

/// A transport error displays only as "transport error"; the useful part ("Connection
/// refused", "invalid certificate") is further down the source chain.
fn with_causes(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(inner) = cause {
        let inner_text = inner.to_string();
        if !text.ends_with(&inner_text) {
            text.push_str(": ");
            text.push_str(&inner_text);
        }
        cause = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl fmt::Display for Layer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|inner| inner as _)
        }
    }

    #[test]
    fn causes_are_appended_and_repeats_skipped() {
        let err = Layer(
            "transport error",
            Some(Box::new(Layer(
                "transport error",
                Some(Box::new(Layer(
                    "tcp connect error: Connection refused",
                    None,
                ))),
            ))),
        );
        assert_eq!(
            with_causes(&err),
            "transport error: tcp connect error: Connection refused"
        );
    }
}
