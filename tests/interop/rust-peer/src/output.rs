//! The stdout contract: one compact JSON object per line, flushed at once, because a harness
//! blocks on lines such as `{"ready":true}` while this process keeps running.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use danube_core::message::StreamMessage;
use serde_json::{json, Map, Value};
use std::io::{self, Write};

pub struct JsonLines<W: Write> {
    sink: W,
}

impl JsonLines<io::Stdout> {
    pub fn stdout() -> Self {
        JsonLines { sink: io::stdout() }
    }
}

impl<W: Write> JsonLines<W> {
    #[cfg(test)]
    pub fn new(sink: W) -> Self {
        JsonLines { sink }
    }

    pub fn emit(&mut self, value: &Value) -> io::Result<()> {
        serde_json::to_writer(&mut self.sink, value)?;
        self.sink.write_all(b"\n")?;
        self.sink.flush()
    }

    #[cfg(test)]
    pub fn into_inner(self) -> W {
        self.sink
    }
}

/// Everything a delivered message says on the wire that another implementation could get
/// wrong. The payload is base64 because payloads are arbitrary bytes. Attribute keys come out
/// sorted (serde_json's default map), so equal messages print identical lines.
pub fn message_json(message: &StreamMessage) -> Value {
    let attributes: Map<String, Value> = message
        .attributes
        .iter()
        .map(|(key, value)| (key.clone(), Value::String(value.clone())))
        .collect();
    json!({
        "topic": message.msg_id.topic_name,
        "topic_offset": message.msg_id.topic_offset,
        "producer_name": message.producer_name,
        "payload_b64": BASE64.encode(&message.payload),
        "attributes": attributes,
        "routing_key": message.routing_key,
        "publish_time": message.publish_time,
        "request_id": message.request_id,
        "producer_id": message.msg_id.producer_id,
        "broker_addr": message.msg_id.broker_addr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use danube_core::message::MessageID;
    use std::collections::HashMap;

    fn sample_message() -> StreamMessage {
        StreamMessage {
            request_id: 7,
            msg_id: MessageID {
                // Above 2^53 on purpose: ids are random u64 and must survive exactly.
                producer_id: 18_446_744_073_709_551_615,
                topic_name: "/default/orders-part-1".into(),
                broker_addr: "http://127.0.0.1:6650/".into(),
                topic_offset: 12,
            },
            payload: vec![0u8, 159, 146, 150, b'h', b'i'].into(),
            publish_time: 1_760_000_000_123,
            producer_name: "rust-peer-producer-1".into(),
            subscription_name: Some(String::new()),
            attributes: HashMap::from([
                ("origin".to_string(), "rust-peer".to_string()),
                ("index".to_string(), "3".to_string()),
            ]),
            schema_id: None,
            schema_version: None,
            routing_key: Some("user-1".into()),
        }
    }

    #[test]
    fn message_fields_map_to_the_documented_json_names() {
        let value = message_json(&sample_message());
        assert_eq!(value["topic"], "/default/orders-part-1");
        assert_eq!(value["topic_offset"], 12);
        assert_eq!(value["producer_name"], "rust-peer-producer-1");
        assert_eq!(value["payload_b64"], "AJ+Slmhp");
        assert_eq!(
            value["attributes"],
            json!({"index": "3", "origin": "rust-peer"})
        );
        assert_eq!(value["routing_key"], "user-1");
        assert_eq!(value["publish_time"], 1_760_000_000_123u64);
        assert_eq!(value["request_id"], 7);
        assert_eq!(value["producer_id"], u64::MAX);
        assert_eq!(value["broker_addr"], "http://127.0.0.1:6650/");
    }

    #[test]
    fn a_missing_routing_key_is_null() {
        let mut message = sample_message();
        message.routing_key = None;
        assert!(message_json(&message)["routing_key"].is_null());
    }

    #[test]
    fn lines_are_compact_newline_terminated_and_keep_u64_exact() {
        let mut lines = JsonLines::new(Vec::new());
        lines.emit(&json!({"ready": true})).unwrap();
        lines.emit(&message_json(&sample_message())).unwrap();
        let text = String::from_utf8(lines.into_inner()).unwrap();
        let mut split = text.split_terminator('\n');
        assert_eq!(split.next(), Some(r#"{"ready":true}"#));
        let second = split.next().unwrap();
        assert!(
            second.contains(r#""producer_id":18446744073709551615"#),
            "{second}"
        );
        assert!(
            second.contains(r#""attributes":{"index":"3","origin":"rust-peer"}"#),
            "{second}"
        );
        assert_eq!(split.next(), None);
    }
}
