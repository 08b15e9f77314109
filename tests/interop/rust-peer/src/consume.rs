//! `consume`: subscribe, announce readiness, then dump N delivered messages as JSON.

use crate::cli::{ConnectionArgs, ConsumeArgs};
use crate::client::{connect, new_consumer, SubscriptionSpec};
use crate::deadline::Deadline;
use crate::error::{Context, PeerError, PeerResult};
use crate::output::{message_json, JsonLines};
use danube_client::Consumer;
use danube_core::message::StreamMessage;
use serde_json::json;
use std::io::Write;
use tokio::sync::mpsc::Receiver;

/// A subscribed consumer whose receive loops are running.
pub struct ReadyConsumer {
    pub consumer: Consumer,
    pub messages: Receiver<StreamMessage>,
}

/// Subscribes and starts receiving, then prints `{"ready":true}`.
///
/// Why the line is printed here: a new Reliable subscription starts at the latest offset when
/// Subscribe returns, and a NonReliable topic only delivers to consumers that exist when a
/// message is published, so a harness must not produce before this point. The crate starts the
/// ReceiveMessages streams in background tasks and offers no signal for "stream open"; until
/// it is open the broker parks NonReliable deliveries in the consumer's own buffer (4 messages
/// in danube-broker 0.15), so the gap is harmless for the small bursts our tests send.
pub async fn subscribe_and_announce(
    connection: &ConnectionArgs,
    spec: &SubscriptionSpec<'_>,
    deadline: &Deadline,
    out: &mut JsonLines<impl Write>,
) -> PeerResult<ReadyConsumer> {
    let client = connect(connection).await?;
    let mut consumer = new_consumer(&client, spec)?;
    let doing = || {
        format!(
            "subscribing '{}' to '{}' (subscription '{}')",
            spec.consumer_name, spec.topic, spec.subscription
        )
    };
    deadline
        .run(consumer.subscribe(), doing)
        .await?
        .context(doing)?;
    let messages = deadline
        .run(consumer.receive(), || "starting to receive".into())
        .await?
        .context(|| "starting to receive".into())?;
    out.emit(&json!({"ready": true}))?;
    Ok(ReadyConsumer { consumer, messages })
}

/// Waits for the next message; `received` and `count` only feed the error text.
pub async fn next_message(
    messages: &mut Receiver<StreamMessage>,
    deadline: &Deadline,
    received: u64,
    count: u64,
    topic: &str,
) -> PeerResult<StreamMessage> {
    let doing = || {
        format!(
            "waiting for message {} of {count} from '{topic}'",
            received + 1
        )
    };
    deadline.run(messages.recv(), doing).await?.ok_or_else(|| {
        // The channel closes only when every per-partition receive task has given up, which
        // the crate logs (at warn/error level, on stderr) with the reason.
        PeerError::new(format!(
            "the client stopped receiving after {received} of {count} messages from '{topic}' \
             (all receive streams ended; see the crate's log above)"
        ))
    })
}

pub async fn run(
    connection: &ConnectionArgs,
    args: &ConsumeArgs,
    out: &mut JsonLines<impl Write>,
) -> PeerResult<()> {
    let deadline = Deadline::after_ms(args.timeout_ms);
    let spec = SubscriptionSpec {
        topic: &args.topic,
        subscription: &args.subscription,
        consumer_name: &args.consumer_name,
        kind: args.sub_type,
        key_filters: &args.key_filter,
    };
    let ReadyConsumer {
        mut consumer,
        mut messages,
    } = subscribe_and_announce(connection, &spec, &deadline, out).await?;

    for received in 0..args.count {
        let message =
            next_message(&mut messages, &deadline, received, args.count, &args.topic).await?;
        if args.ack {
            let doing = || format!("acknowledging message {} of {}", received + 1, args.count);
            deadline
                .run(consumer.ack(&message), doing)
                .await?
                .context(doing)?;
        }
        out.emit(&message_json(&message))?;
    }
    out.emit(&json!({"received": args.count}))?;
    // Lets the broker see the stream close now rather than at process exit.
    consumer.close().await;
    Ok(())
}
