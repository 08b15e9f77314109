//! `bench-produce` and `bench-consume`: the reference numbers for the Rust client's normal API.
//!
//! What is measured (also in docs/interop.md):
//! * produce: each `Producer::send` from call to return, i.e. one SendMessage round trip, since
//!   the crate keeps one send in flight per producer. `seconds` spans the whole send loop
//!   (producer creation excluded) and rates are `count / seconds`.
//! * consume: `receipt wall clock - publish_time`. publish_time is the producer's wall clock in
//!   whole milliseconds, so the figure is only meaningful when both run on one machine, and it
//!   overstates the latency by 0-1 ms (truncation). `seconds` spans first to last receipt, so it
//!   covers `count - 1` deliveries and rates are `(count - 1) / seconds`.

use crate::cli::{BenchConsumeArgs, BenchProduceArgs, ConnectionArgs};
use crate::client::{connect, SubscriptionSpec};
use crate::consume::{next_message, subscribe_and_announce, ReadyConsumer};
use crate::deadline::Deadline;
use crate::error::{Context, PeerResult};
use crate::output::JsonLines;
use crate::produce::{create_producer, ProducerSpec};
use crate::stats::{bench_report, LatencySummary};
use std::io::Write;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

pub async fn run_produce(
    connection: &ConnectionArgs,
    args: &BenchProduceArgs,
    out: &mut JsonLines<impl Write>,
) -> PeerResult<()> {
    let deadline = Deadline::after_ms(args.timeout_ms);
    let client = connect(connection).await?;
    let spec = ProducerSpec {
        topic: &args.topic,
        name: &args.producer_name,
        reliable: args.reliable,
        partitions: None,
    };
    let producer = create_producer(&client, &spec, &deadline).await?;
    // A recognisable non-zero pattern, so a broker that mangles bytes is not flattered by zeros.
    let payload: Vec<u8> = (0..args.size).map(|i| (i % 251) as u8).collect();

    let mut latencies_us = Vec::with_capacity(args.count as usize);
    let started = Instant::now();
    for index in 0..args.count {
        // send() takes the payload by value; copying it is part of the API cost we compare.
        let data = payload.clone();
        let sent_at = Instant::now();
        let doing = || format!("sending bench message {index} of {}", args.count);
        deadline
            .run(producer.send(data, None), doing)
            .await?
            .context(doing)?;
        latencies_us.push(sent_at.elapsed().as_micros() as u64);
    }
    let seconds = started.elapsed().as_secs_f64();

    let latency = LatencySummary::from_samples(latencies_us);
    out.emit(&bench_report(
        "produce",
        args.count,
        args.size as u64,
        seconds,
        args.count,
        latency.as_ref(),
    ))?;
    Ok(())
}

pub async fn run_consume(
    connection: &ConnectionArgs,
    args: &BenchConsumeArgs,
    out: &mut JsonLines<impl Write>,
) -> PeerResult<()> {
    let deadline = Deadline::after_ms(args.timeout_ms);
    let no_filters = Vec::new();
    let spec = SubscriptionSpec {
        topic: &args.topic,
        subscription: &args.subscription,
        consumer_name: &args.consumer_name,
        kind: args.sub_type,
        key_filters: &no_filters,
    };
    let ReadyConsumer {
        mut consumer,
        mut messages,
    } = subscribe_and_announce(connection, &spec, &deadline, out).await?;

    let mut latencies_us = Vec::with_capacity(args.count as usize);
    let mut payload_bytes: u64 = 0;
    let mut first_receipt: Option<Instant> = None;
    let mut last_receipt: Option<Instant> = None;
    for received in 0..args.count {
        let message =
            next_message(&mut messages, &deadline, received, args.count, &args.topic).await?;
        let now = Instant::now();
        latencies_us.push(publish_to_receipt_us(
            message.publish_time,
            SystemTime::now(),
        ));
        first_receipt.get_or_insert(now);
        last_receipt = Some(now);
        payload_bytes += message.payload.len() as u64;
        if args.ack {
            let doing = || {
                format!(
                    "acknowledging bench message {} of {}",
                    received + 1,
                    args.count
                )
            };
            deadline
                .run(consumer.ack(&message), doing)
                .await?
                .context(doing)?;
        }
    }
    consumer.close().await;

    let seconds = match (first_receipt, last_receipt) {
        (Some(first), Some(last)) => last.duration_since(first).as_secs_f64(),
        _ => 0.0,
    };
    let mean_size = payload_bytes.checked_div(args.count).unwrap_or(0);
    let latency = LatencySummary::from_samples(latencies_us);
    out.emit(&bench_report(
        "consume",
        args.count,
        mean_size,
        seconds,
        args.count.saturating_sub(1),
        latency.as_ref(),
    ))?;
    Ok(())
}

/// Clamped at zero: a producer clock slightly ahead of ours must not wrap around.
fn publish_to_receipt_us(publish_time_ms: u64, receipt: SystemTime) -> u64 {
    let receipt_us = receipt
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0);
    receipt_us.saturating_sub(publish_time_ms.saturating_mul(1_000))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn latency_is_receipt_minus_publish_in_microseconds() {
        let receipt = UNIX_EPOCH + Duration::from_micros(1_700_000_000_002_500);
        assert_eq!(publish_to_receipt_us(1_700_000_000_000, receipt), 2_500);
    }

    #[test]
    fn a_publish_time_in_the_future_gives_zero_not_a_wrap() {
        let receipt = UNIX_EPOCH + Duration::from_millis(1_000);
        assert_eq!(publish_to_receipt_us(5_000, receipt), 0);
    }
}
