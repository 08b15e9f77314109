//! A polling source that emits numbered text records with the same payload and attributes as
//! danube-connect's `simple_source` ("Test message #N - Timestamp: <ms>", `source`,
//! `message_number`, `batch_index`), each with an offset the runtime hands back to `commit`.

use crate::settings::SourceSettings;
use async_trait::async_trait;
use danube_connect_core::{
    ConnectorConfig, ConnectorResult, Offset, ProducerConfig, SourceConnector, SourceEnvelope,
    SourceRecord,
};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const OFFSET_PARTITION: &str = "generator";

pub struct NumberedSource {
    settings: SourceSettings,
    next: u64,
    committed: Option<u64>,
    next_poll: Option<Instant>,
}

impl NumberedSource {
    pub fn new(settings: SourceSettings) -> Self {
        Self {
            settings,
            next: 0,
            committed: None,
            next_poll: None,
        }
    }

    fn finished(&self) -> bool {
        self.settings.message_count > 0 && self.next >= self.settings.message_count
    }
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis())
        .unwrap_or(0)
}

#[async_trait]
impl SourceConnector for NumberedSource {
    async fn initialize(&mut self, _config: ConnectorConfig) -> ConnectorResult<()> {
        Ok(())
    }

    async fn producer_configs(&self) -> ConnectorResult<Vec<ProducerConfig>> {
        Ok(vec![ProducerConfig::new(
            self.settings.topic.clone(),
            self.settings.partitions,
            self.settings.reliable,
        )])
    }

    async fn poll(&mut self) -> ConnectorResult<Vec<SourceEnvelope>> {
        if self.finished() {
            // Nothing more to say: the runtime waits its poll interval before asking again.
            return Ok(Vec::new());
        }
        // Pace like the seed's example does, by waiting inside poll().
        if let Some(next_poll) = self.next_poll {
            tokio::time::sleep_until(next_poll.into()).await;
        }
        self.next_poll = Some(Instant::now() + Duration::from_millis(self.settings.interval_ms));

        let mut batch = Vec::with_capacity(self.settings.batch_size as usize);
        for index in 0..self.settings.batch_size {
            if self.finished() {
                break;
            }
            let number = self.next;
            let text = format!("Test message #{number} - Timestamp: {}", now_ms());
            let record = SourceRecord::from_string(self.settings.topic.clone(), text)
                .with_attribute("source", "simple_source")
                .with_attribute("message_number", number.to_string())
                .with_attribute("batch_index", index.to_string());
            batch.push(SourceEnvelope::with_offset(
                record,
                Offset::new(OFFSET_PARTITION, number),
            ));
            self.next += 1;
        }
        Ok(batch)
    }

    async fn commit(&mut self, offsets: Vec<Offset>) -> ConnectorResult<()> {
        if let Some(last) = offsets.last() {
            self.committed = Some(last.value);
        }
        Ok(())
    }

    async fn shutdown(&mut self) -> ConnectorResult<()> {
        println!(
            "numbered source: generated {} records, last committed offset {:?}",
            self.next, self.committed
        );
        Ok(())
    }
}
