//! The server's shared state: what is registered, its configuration, cached list pages, the
//! listeners told of changes, the middleware, the lifespan hooks and the open subscription
//! streams. Every clone of a [`Server`] holds one. Everything that serves requests reads it
//! from here; building a server, registering items and starting it live above it, in `server`.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use serde_json::value::RawValue;

use crate::broadcast::Broadcast;
use crate::cache::{CachePolicies, CachePolicy, CacheableMethod};
use crate::changes::{Change, ListKind, Listeners};
use crate::jsonrpc::ParseLimits;
use crate::lifespan::Lifespan;
use crate::mrtr::Sealer;
use crate::protocol::Implementation;
use crate::registry::{Prompt, Resource, ResourceTemplate, Tool};
use crate::state::StateMap;
use crate::subscriptions::SubscriptionLimits;
use crate::tasks::Tasks;
use crate::version::ProtocolVersion;

/// A configured MCP server. Cheap to clone; every clone shares one registry.
#[derive(Clone)]
pub struct Server {
    inner: Arc<ServerInner>,
}

#[derive(Default)]
pub(crate) struct Registry {
    pub(crate) tools: BTreeMap<String, Arc<Tool>>,
    pub(crate) resources: BTreeMap<String, Arc<Resource>>,
    pub(crate) templates: Vec<Arc<ResourceTemplate>>,
    pub(crate) prompts: BTreeMap<String, Arc<Prompt>>,
}

struct ServerInner {
    config: Config,
    /// Replaced once, when the start-up hooks add their values.
    state: RwLock<Arc<StateMap>>,
    lifespan: Lifespan<Server>,
    /// Around every request and tool call, outermost first.
    middleware: crate::middleware::Stack,
    registry: RwLock<Registry>,
    /// Serialized list pages, keyed by list, revision and page start; cleared on change.
    list_cache: Mutex<HashMap<PageKey, Arc<RawValue>>>,
    listeners: Arc<Listeners>,
    sessions: AtomicUsize,
    sealer: Sealer,
    listen_streams: Arc<AtomicUsize>,
    subscriptions_end: tokio_util::sync::CancellationToken,
    tasks: Tasks,
    /// `{"io.modelcontextprotocol/serverInfo": ...}`, serialized once for every result.
    server_info_meta: Arc<RawValue>,
    /// Told of every server-wide notification raised here (see [`Server::on_broadcast`]).
    broadcast_hook: OnceLock<BroadcastHook>,
}

/// A server's configuration values: set on the builder, read while serving.
pub(crate) struct Config {
    pub(crate) info: Implementation,
    pub(crate) instructions: Option<String>,
    pub(crate) parse_limits: ParseLimits,
    pub(crate) page_size: usize,
    pub(crate) request_timeout: Duration,
    pub(crate) max_in_flight: usize,
    pub(crate) subscription_limits: SubscriptionLimits,
    pub(crate) handler_timeout: Duration,
    pub(crate) cache: CachePolicies,
    pub(crate) max_listen_streams: usize,
    pub(crate) max_listen_resources: usize,
}

/// What a [`Server`] is built from: its configuration, checked by the builder, and the state
/// and hooks it starts with.
pub(crate) struct Settings {
    pub(crate) config: Config,
    pub(crate) state: StateMap,
    pub(crate) lifespan: Lifespan<Server>,
    pub(crate) middleware: crate::middleware::Stack,
    pub(crate) sealer: Sealer,
    pub(crate) tasks: Tasks,
}

/// One open `subscriptions/listen` stream, counted until dropped.
pub(crate) struct ListenSlot(Arc<AtomicUsize>);

impl Drop for ListenSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// What [`Server::on_broadcast`] calls.
type BroadcastHook = Arc<dyn Fn(&Broadcast) + Send + Sync>;

/// A cached list page: which list, for which revision, from which item.
pub(crate) type PageKey = (ListKind, ProtocolVersion, usize);

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("name", &self.inner.config.info.name)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// A server holding nothing yet, configured by `settings`.
    pub(crate) fn new(settings: Settings) -> Server {
        let server_info_meta = {
            let info = &settings.config.info;
            let mut json = serde_json::json!({ "name": info.name, "version": info.version });
            if let Some(t) = &info.title {
                json["title"] = t.clone().into();
            }
            serde_json::value::to_raw_value(
                &serde_json::json!({ crate::envelope::META_SERVER_INFO: json }),
            )
            .expect("a JSON value serializes")
            .into()
        };
        Server {
            inner: Arc::new(ServerInner {
                config: settings.config,
                state: RwLock::new(Arc::new(settings.state)),
                lifespan: settings.lifespan,
                middleware: settings.middleware,
                registry: RwLock::new(Registry::default()),
                list_cache: Mutex::new(HashMap::new()),
                listeners: Arc::default(),
                sessions: AtomicUsize::new(0),
                sealer: settings.sealer,
                listen_streams: Arc::default(),
                subscriptions_end: tokio_util::sync::CancellationToken::new(),
                tasks: settings.tasks,
                server_info_meta,
                broadcast_hook: OnceLock::new(),
            }),
        }
    }

    /// The start-up and shutdown hooks.
    pub(crate) fn lifespan(&self) -> &Lifespan<Server> {
        &self.inner.lifespan
    }

    /// The server's name, version and title.
    pub fn info(&self) -> &Implementation {
        &self.inner.config.info
    }

    /// The limits transports apply when parsing incoming JSON.
    pub fn parse_limits(&self) -> ParseLimits {
        self.inner.config.parse_limits
    }

    /// How many sessions are open.
    pub fn session_count(&self) -> usize {
        self.inner.sessions.load(Ordering::Relaxed)
    }

    /// Counts a session opened (`+1`) or closed (`-1`).
    pub(crate) fn count_session(&self, opened: bool) {
        if opened {
            self.inner.sessions.fetch_add(1, Ordering::Relaxed);
        } else {
            self.inner.sessions.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Whoever is told of changes.
    pub(crate) fn listeners(&self) -> &Arc<Listeners> {
        &self.inner.listeners
    }

    /// The middleware, outermost first.
    pub(crate) fn middleware(&self) -> &crate::middleware::Stack {
        &self.inner.middleware
    }

    /// Typed application state.
    pub(crate) fn state_map(&self) -> Arc<StateMap> {
        self.inner
            .state
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Replaces the typed state (after the start-up hooks added their values).
    pub(crate) fn replace_state(&self, state: StateMap) {
        *self.inner.state.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(state);
    }

    /// The shared application state of type `T`: given to [`ServerBuilder::state`], or
    /// produced by a start-up hook ([`ServerBuilder::on_startup`]) once [`Server::start`] ran.
    pub fn state<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        self.state_map().get::<T>()
    }

    /// The instructions sent in the `initialize` and `server/discover` results.
    pub(crate) fn instructions(&self) -> Option<&str> {
        self.inner.config.instructions.as_deref()
    }

    /// How many items one list page holds.
    pub(crate) fn page_size(&self) -> usize {
        self.inner.config.page_size
    }

    /// How long a server-to-client request waits for its answer.
    pub(crate) fn request_timeout(&self) -> Duration {
        self.inner.config.request_timeout
    }

    /// How many requests one session may have running at once.
    pub(crate) fn max_in_flight(&self) -> usize {
        self.inner.config.max_in_flight
    }

    /// The caching hints of `method`'s results.
    pub(crate) fn cache_policy(&self, method: CacheableMethod) -> CachePolicy {
        self.inner.config.cache.get(method)
    }

    /// Ends every open `subscriptions/listen` stream gracefully (each is answered with a
    /// complete result, then its stream ends), and every one opened later at once. Transports
    /// call it when they shut down.
    pub fn end_subscriptions(&self) {
        self.inner.subscriptions_end.cancel();
    }

    /// Resolves once [`Server::end_subscriptions`] was called.
    pub(crate) async fn subscriptions_ended(&self) {
        self.inner.subscriptions_end.cancelled().await;
    }

    /// How many `subscriptions/listen` streams may be open at once.
    pub(crate) fn max_listen_streams(&self) -> usize {
        self.inner.config.max_listen_streams
    }

    /// How many resources one `subscriptions/listen` stream may watch.
    pub(crate) fn max_listen_resources(&self) -> usize {
        self.inner.config.max_listen_resources
    }

    /// A place for one more `subscriptions/listen` stream, held until dropped; `None` at the
    /// limit.
    pub(crate) fn listen_slot(&self) -> Option<ListenSlot> {
        let count = &self.inner.listen_streams;
        count
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.inner.config.max_listen_streams).then_some(n + 1)
            })
            .ok()?;
        Some(ListenSlot(count.clone()))
    }

    /// How many `subscriptions/listen` streams are open.
    pub fn subscription_count(&self) -> usize {
        self.inner.listen_streams.load(Ordering::Relaxed)
    }

    /// The tasks of the tasks extension.
    pub(crate) fn tasks(&self) -> &Tasks {
        &self.inner.tasks
    }

    /// Seals and opens the `requestState` of multi round-trip requests.
    pub(crate) fn sealer(&self) -> &Sealer {
        &self.inner.sealer
    }

    /// True when the `requestState` key was set with [`ServerBuilder::request_state_key`],
    /// false for the default (random, drawn once per process).
    pub fn has_configured_request_state_key(&self) -> bool {
        self.inner.sealer.is_configured()
    }

    /// Seals and opens `requestState` values with `key` from now on, in place of the default
    /// random key, so that the instances of one deployment accept each other's states (a
    /// transport spanning several processes hands them one shared key). A key set with
    /// [`ServerBuilder::request_state_key`] is kept, and keys shorter than 32 bytes are
    /// ignored: the result is true when `key` is the one in use afterwards. A state sealed
    /// under the replaced key then fails verification, and its client starts the request over.
    ///
    /// ```
    /// let server = mcp_core::Server::builder("demo", "1").build().unwrap();
    /// assert!(!server.has_configured_request_state_key());
    /// assert!(server.adopt_request_state_key(&[7u8; 32]));
    /// assert!(!server.adopt_request_state_key(b"short"));
    /// ```
    pub fn adopt_request_state_key(&self, key: &[u8]) -> bool {
        self.inner.sealer.adopt_key(key)
    }

    /// Starts the id of every task (tasks extension) created from now on with `prefix`, so a
    /// deployment of several instances can tell from a task id which instance runs it. Set
    /// once: false when a prefix was set already.
    ///
    /// ```
    /// let server = mcp_core::Server::builder("demo", "1").build().unwrap();
    /// assert!(server.set_task_id_prefix("node-1."));
    /// assert!(!server.set_task_id_prefix("node-2."));
    /// ```
    pub fn set_task_id_prefix(&self, prefix: impl Into<String>) -> bool {
        self.inner.tasks.set_prefix(prefix.into())
    }

    /// The result `_meta` naming this server (the stateless revision).
    pub(crate) fn server_info_meta(&self) -> &Arc<RawValue> {
        &self.inner.server_info_meta
    }

    /// How many subscriptions one session may hold, and how long a subscribed uri may be.
    pub(crate) fn subscription_limits(&self) -> SubscriptionLimits {
        self.inner.config.subscription_limits
    }

    /// How long a handler may run unless its tool sets its own timeout.
    pub(crate) fn handler_timeout(&self) -> Duration {
        self.inner.config.handler_timeout
    }

    /// Whether a static resource or a template resolves `uri`.
    pub(crate) fn resolves_resource(&self, uri: &str) -> bool {
        let reg = self.read();
        reg.resources.contains_key(uri)
            || reg
                .templates
                .iter()
                .any(|t| t.template.matches(uri).is_some())
    }

    /// A cached list page.
    pub(crate) fn cached_page(&self, key: &PageKey) -> Option<Arc<RawValue>> {
        self.inner
            .list_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned()
    }

    /// Caches a list page until its list changes.
    pub(crate) fn cache_page(&self, key: PageKey, page: Arc<RawValue>) {
        self.inner
            .list_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, page);
    }

    /// Tells every client subscribed to `uri` that the resource changed
    /// (`notifications/resources/updated`).
    ///
    /// Never waits on a client: each notification is queued at once, or, when that client's
    /// queue is full, delivered by that client's own task as it makes room (updates of one uri
    /// waiting there are sent once). A client that stops reading delays no other one, and its
    /// update still reaches it if it resumes reading before its stream is closed.
    pub async fn notify_resource_updated(&self, uri: &str) {
        self.inner.listeners.deliver(Change::ResourceUpdated(uri));
        self.raise(|| Broadcast::ResourceUpdated(uri.to_owned()));
    }

    /// Calls `hook` with every server-wide notification raised in this process (list changes,
    /// [`Server::notify_resource_updated`]) once its own listeners have it. A transport that
    /// spans several processes passes them on, and the others call
    /// [`Server::deliver_broadcast`]. Only the first hook set is kept.
    pub fn on_broadcast(&self, hook: impl Fn(&Broadcast) + Send + Sync + 'static) {
        let _ = self.inner.broadcast_hook.set(Arc::new(hook));
    }

    /// Delivers a notification raised in another process to this process's listeners (a list
    /// change to every initialized session, a resource update to its subscribers), without
    /// calling the [`Server::on_broadcast`] hook.
    pub async fn deliver_broadcast(&self, broadcast: &Broadcast) {
        match broadcast {
            // As for a local change: never wait on a slow client for a hint.
            Broadcast::ListChanged(_) => self.inner.listeners.announce(broadcast.change()),
            Broadcast::ResourceUpdated(_) => {
                self.inner.listeners.deliver(broadcast.change());
            }
        }
    }

    fn raise(&self, broadcast: impl FnOnce() -> Broadcast) {
        if let Some(hook) = self.inner.broadcast_hook.get() {
            hook(&broadcast());
        }
    }

    /// The registry, for a change.
    pub(crate) fn write(&self) -> std::sync::RwLockWriteGuard<'_, Registry> {
        self.inner
            .registry
            .write()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// What is registered, for reading.
    pub(crate) fn read(&self) -> std::sync::RwLockReadGuard<'_, Registry> {
        self.inner
            .registry
            .read()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Drops the cached pages of the `kind` list and tells every listener it changed.
    pub(crate) fn changed(&self, kind: ListKind) {
        self.inner
            .list_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(k, _, _), _| {
                *k != kind && !(kind == ListKind::Resources && *k == ListKind::Templates)
            });
        // Never wait on a slow client here: a full queue drops the hint, and the client sees
        // the change on its next list call.
        self.inner.listeners.announce(Change::List(kind));
        self.raise(|| Broadcast::from_list(kind));
    }
}
