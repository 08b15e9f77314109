//! `produce`: a deterministic message sequence that a consumer on the other side can verify
//! field by field (payload, attributes, key, producer name).

use crate::cli::{ConnectionArgs, ProduceArgs};
use crate::client::connect;
use crate::deadline::Deadline;
use crate::error::{Context, PeerResult};
use crate::key_mode::KeyMode;
use crate::output::JsonLines;
use danube_client::{DanubeClient, Producer};
use serde_json::json;
use std::collections::HashMap;
use std::io::Write;

pub struct ProducerSpec<'a> {
    pub topic: &'a str,
    pub name: &'a str,
    pub reliable: bool,
    pub partitions: Option<u32>,
}

/// Creates the producer on the broker (lookup, then CreateProducer per partition; the broker
/// auto-creates missing topics with the requested dispatch strategy).
pub async fn create_producer(
    client: &DanubeClient,
    spec: &ProducerSpec<'_>,
    deadline: &Deadline,
) -> PeerResult<Producer> {
    let mut builder = client
        .new_producer()
        .with_topic(spec.topic)
        .with_name(spec.name);
    if spec.reliable {
        builder = builder.with_reliable_dispatch();
    }
    if let Some(partitions) = spec.partitions {
        builder = builder.with_partitions(partitions as usize);
    }
    let mut producer = builder
        .build()
        .context(|| format!("configuring a producer for '{}'", spec.topic))?;
    deadline
        .run(producer.create(), || {
            format!("creating producer '{}' on '{}'", spec.name, spec.topic)
        })
        .await?
        .context(|| format!("creating producer '{}' on '{}'", spec.name, spec.topic))?;
    Ok(producer)
}

pub fn payload_for(prefix: &str, index: u64) -> Vec<u8> {
    format!("{prefix}{index}").into_bytes()
}

pub fn attributes_for(index: u64) -> HashMap<String, String> {
    HashMap::from([
        ("index".to_string(), index.to_string()),
        ("origin".to_string(), "rust-peer".to_string()),
    ])
}

pub async fn run(
    connection: &ConnectionArgs,
    args: &ProduceArgs,
    out: &mut JsonLines<impl Write>,
) -> PeerResult<()> {
    // Parse before connecting so that a typo fails fast without touching the broker.
    let key_mode = KeyMode::parse(&args.key_mode)?;
    let deadline = Deadline::after_ms(args.timeout_ms);
    let client = connect(connection).await?;
    let spec = ProducerSpec {
        topic: &args.topic,
        name: &args.producer_name,
        reliable: args.reliable,
        partitions: args.partitions,
    };
    let producer = create_producer(&client, &spec, &deadline).await?;

    for index in 0..args.count {
        let payload = payload_for(&args.payload_prefix, index);
        let attributes = Some(attributes_for(index));
        let key = key_mode.key_for(index);
        // send_with_key is the only way the crate sets routing_key (and, when partitioned,
        // it routes by key hash instead of round-robin).
        let sending = async {
            match key {
                Some(key) => producer.send_with_key(payload, attributes, key).await,
                None => producer.send(payload, attributes).await,
            }
        };
        let doing = || {
            format!(
                "sending message {index} of {} to '{}'",
                args.count, args.topic
            )
        };
        let request_id = deadline.run(sending, doing).await?.context(doing)?;
        out.emit(&json!({"index": index, "request_id": request_id, "key": key}))?;
    }
    out.emit(&json!({"sent": args.count}))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_is_prefix_followed_by_decimal_index() {
        assert_eq!(payload_for("msg-", 0), b"msg-0");
        assert_eq!(payload_for("", 12), b"12");
    }

    #[test]
    fn attributes_carry_index_and_origin_only() {
        let attributes = attributes_for(5);
        assert_eq!(attributes.len(), 2);
        assert_eq!(attributes["index"], "5");
        assert_eq!(attributes["origin"], "rust-peer");
    }
}
