//! The model servers and their pools, made from the config: one server per address of each
//! provider, one pool per set of providers a tier names.

use crate::config::{Config, Tier};
use crate::event::{Event, EventSender};
use crate::provider::pool::{News, Pool, Server};
use crate::provider::{Provider, ProviderError};
use std::collections::BTreeMap;
use std::sync::Arc;

/// One server for each address of each provider, each telling the dashboard of its health
/// and load, and one pool for each set of providers a tier names.
pub(super) type Pools = (Vec<Arc<Server>>, BTreeMap<Vec<String>, Arc<Pool>>);

pub(super) fn pools(config: &Config, events: &EventSender) -> Result<Pools, ProviderError> {
    let mut servers: Vec<Arc<Server>> = Vec::new();
    let mut by_provider: BTreeMap<&str, Vec<Arc<Server>>> = BTreeMap::new();
    for (name, settings) in &config.providers {
        let members = settings.members();
        let several = members.len() > 1;
        for (url, one) in members {
            let label = match url {
                Some(url) if several => short_address(&url),
                _ => name.clone(),
            };
            let server = Server::new(Provider::new(name.clone(), one)?, label);
            let events = events.clone();
            server.watch(move |label, news| {
                let event = match news {
                    News::Health(health) => Event::Health {
                        provider: label.to_owned(),
                        health,
                    },
                    News::Load { in_flight, slots } => Event::Load {
                        server: label.to_owned(),
                        in_flight,
                        slots,
                    },
                };
                let _ = events.send(event);
            });
            by_provider
                .entry(name)
                .or_default()
                .push(Arc::clone(&server));
            servers.push(server);
        }
    }
    let mut pools = BTreeMap::new();
    for tier in Tier::ALL {
        let names = &config.tier(tier).pool;
        if pools.contains_key(names) {
            continue;
        }
        let members: Vec<Arc<Server>> = names
            .iter()
            .filter_map(|n| by_provider.get(n.as_str()))
            .flatten()
            .cloned()
            .collect();
        if members.is_empty() {
            continue;
        }
        pools.insert(names.clone(), Pool::new(names.join(" + "), members));
    }
    if pools.is_empty()
        && let Some(first) = servers.first()
    {
        pools.insert(
            vec![first.provider.name.clone()],
            Pool::new(first.provider.name.clone(), vec![Arc::clone(first)]),
        );
    }
    Ok((servers, pools))
}

/// `host:port` of a URL, for a server's name in the header.
fn short_address(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => match (u.host_str(), u.port_or_known_default()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            _ => url.to_owned(),
        },
        Err(_) => url.to_owned(),
    }
}
