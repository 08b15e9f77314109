//! Building the crate's client and consumers from our options.

use crate::cli::{ConnectionArgs, SubscriptionKind};
use crate::error::{Context, PeerError, PeerResult};
use danube_client::{Consumer, DanubeClient, SubType};

/// The crate opens no connection here (that happens on the first rpc), so this only validates.
pub async fn connect(args: &ConnectionArgs) -> PeerResult<DanubeClient> {
    // Without a scheme the crate's URI parses but tonic later fails with an obscure error.
    if !(args.service_url.starts_with("http://") || args.service_url.starts_with("https://")) {
        return Err(PeerError::new(format!(
            "--service-url '{}' must start with http:// or https://",
            args.service_url
        )));
    }
    let mut builder = DanubeClient::builder().service_url(&args.service_url);
    // The CA must be configured before the token: with_token() installs a root-less default
    // TLS config only when none is present yet.
    if let Some(ca_file) = &args.ca_file {
        builder = builder
            .with_tls(ca_file)
            .context(|| format!("loading --ca-file '{}'", ca_file.display()))?;
    }
    if let Some(token) = &args.token {
        builder = builder.with_token(token.clone());
    }
    builder
        .build()
        .await
        .context(|| format!("building a client for '{}'", args.service_url))
}

pub fn sub_type(kind: SubscriptionKind) -> SubType {
    match kind {
        SubscriptionKind::Exclusive => SubType::Exclusive,
        SubscriptionKind::Shared => SubType::Shared,
        SubscriptionKind::Failover => SubType::FailOver,
        SubscriptionKind::KeyShared => SubType::KeyShared,
    }
}

pub struct SubscriptionSpec<'a> {
    pub topic: &'a str,
    pub subscription: &'a str,
    pub consumer_name: &'a str,
    pub kind: SubscriptionKind,
    pub key_filters: &'a [String],
}

pub fn new_consumer(client: &DanubeClient, spec: &SubscriptionSpec<'_>) -> PeerResult<Consumer> {
    client
        .new_consumer()
        .with_topic(spec.topic)
        .with_consumer_name(spec.consumer_name)
        .with_subscription(spec.subscription)
        .with_subscription_type(sub_type(spec.kind))
        .with_key_filters(spec.key_filters.to_vec())
        .build()
        .context(|| format!("configuring a consumer for '{}'", spec.topic))
}
