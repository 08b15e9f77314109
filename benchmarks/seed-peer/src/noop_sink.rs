//! A sink that does nothing with its records but count them: what is measured is the seed
//! runtime's own cost of receiving, batching and acknowledging.

use crate::settings::SinkSettings;
use async_trait::async_trait;
use danube_connect_core::{
    ConnectorConfig, ConnectorResult, ConsumerConfig, SinkConnector, SinkRecord,
};
use std::io::Write;

pub struct NoopSink {
    settings: SinkSettings,
    processed: u64,
}

impl NoopSink {
    pub fn new(settings: SinkSettings) -> Self {
        Self {
            settings,
            processed: 0,
        }
    }

    fn print(&self, record: &SinkRecord) {
        // One line, flushed at once: the benchmark script waits for it.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "record number={} topic={} producer={} publish_time={}",
            self.processed,
            record.topic(),
            record.producer_name(),
            record.publish_time()
        );
        let _ = out.flush();
    }
}

#[async_trait]
impl SinkConnector for NoopSink {
    async fn initialize(&mut self, _config: ConnectorConfig) -> ConnectorResult<()> {
        Ok(())
    }

    async fn consumer_configs(&self) -> ConnectorResult<Vec<ConsumerConfig>> {
        Ok(vec![ConsumerConfig {
            topic: self.settings.topic.clone(),
            consumer_name: self.settings.consumer_name.clone(),
            subscription: self.settings.subscription.clone(),
            subscription_type: self.settings.subscription_type.clone(),
            expected_schema_subject: None,
        }])
    }

    async fn process_batch(&mut self, records: Vec<SinkRecord>) -> ConnectorResult<()> {
        for record in &records {
            self.processed += 1;
            let every = self.settings.print_every;
            if every > 0 && self.processed.is_multiple_of(every) {
                self.print(record);
            }
        }
        Ok(())
    }

    async fn shutdown(&mut self) -> ConnectorResult<()> {
        println!("noop sink: processed {} records", self.processed);
        Ok(())
    }
}
