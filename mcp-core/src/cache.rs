//! Caching hints of the stateless revision: how long a client may consider a result fresh
//! (`ttlMs`) and who may cache it (`cacheScope`). Set per server, per method, and per resource.

use std::time::Duration;

/// Who may store a cached result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheScope {
    /// The result holds nothing user-specific: shared caches may serve it to anyone.
    Public,
    /// The result may hold the caller's data: only caches of the same authorization context.
    Private,
}

/// The caching hints of one kind of result.
///
/// ```
/// use std::time::Duration;
/// use mcp_core::cache::{CachePolicy, CacheScope};
///
/// let p = CachePolicy::new(Duration::from_secs(300), CacheScope::Public);
/// assert_eq!(p.ttl_ms(), 300_000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CachePolicy {
    /// How long the result may be considered fresh (whole milliseconds are sent).
    pub ttl: Duration,
    /// Who may cache it.
    pub scope: CacheScope,
}

impl CachePolicy {
    /// A policy with this freshness and scope.
    pub const fn new(ttl: Duration, scope: CacheScope) -> Self {
        CachePolicy { ttl, scope }
    }

    /// Immediately stale, cacheable by anyone: the default for lists and `server/discover`.
    pub const PUBLIC_STALE: CachePolicy = CachePolicy::new(Duration::ZERO, CacheScope::Public);

    /// Immediately stale, cacheable per caller only: the default for `resources/read`.
    pub const PRIVATE_STALE: CachePolicy = CachePolicy::new(Duration::ZERO, CacheScope::Private);

    /// `ttlMs` as sent.
    pub fn ttl_ms(&self) -> u64 {
        u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX)
    }
}

/// The methods whose results carry caching hints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CacheableMethod {
    /// `server/discover`.
    Discover,
    /// `tools/list`.
    ToolsList,
    /// `prompts/list`.
    PromptsList,
    /// `resources/list`.
    ResourcesList,
    /// `resources/templates/list`.
    ResourceTemplatesList,
    /// `resources/read` (a resource's own policy, set with `Resource::cache`, wins).
    ResourcesRead,
}

/// The policies of one server.
#[derive(Debug, Clone)]
pub(crate) struct CachePolicies {
    discover: CachePolicy,
    tools: CachePolicy,
    prompts: CachePolicy,
    resources: CachePolicy,
    templates: CachePolicy,
    read: CachePolicy,
}

impl Default for CachePolicies {
    fn default() -> Self {
        CachePolicies {
            discover: CachePolicy::PUBLIC_STALE,
            tools: CachePolicy::PUBLIC_STALE,
            prompts: CachePolicy::PUBLIC_STALE,
            resources: CachePolicy::PUBLIC_STALE,
            templates: CachePolicy::PUBLIC_STALE,
            read: CachePolicy::PRIVATE_STALE,
        }
    }
}

impl CachePolicies {
    /// Sets every method's policy.
    pub(crate) fn set_all(&mut self, p: CachePolicy) {
        *self = CachePolicies {
            discover: p,
            tools: p,
            prompts: p,
            resources: p,
            templates: p,
            read: p,
        };
    }

    fn slot(&mut self, m: CacheableMethod) -> &mut CachePolicy {
        match m {
            CacheableMethod::Discover => &mut self.discover,
            CacheableMethod::ToolsList => &mut self.tools,
            CacheableMethod::PromptsList => &mut self.prompts,
            CacheableMethod::ResourcesList => &mut self.resources,
            CacheableMethod::ResourceTemplatesList => &mut self.templates,
            CacheableMethod::ResourcesRead => &mut self.read,
        }
    }

    /// Sets one method's policy.
    pub(crate) fn set(&mut self, m: CacheableMethod, p: CachePolicy) {
        *self.slot(m) = p;
    }

    /// One method's policy.
    pub(crate) fn get(&self, m: CacheableMethod) -> CachePolicy {
        match m {
            CacheableMethod::Discover => self.discover,
            CacheableMethod::ToolsList => self.tools,
            CacheableMethod::PromptsList => self.prompts,
            CacheableMethod::ResourcesList => self.resources,
            CacheableMethod::ResourceTemplatesList => self.templates,
            CacheableMethod::ResourcesRead => self.read,
        }
    }
}
