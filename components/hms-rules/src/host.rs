//! Runs rule sets: one wasmtime `Engine` per process, each component compiled once and
//! pre-instantiated, a fresh store per call with its own fuel and memory budget, so that no
//! state leaks from one claim to the next and no rule set can stall or exhaust the host.

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, StoreLimits,
    StoreLimitsBuilder,
};

wasmtime::component::bindgen!({
    path: "../wit/payer-rules.wit",
    world: "rule-set",
});

pub use exports::hms::payer_rules::rules;
pub use hms::payer_rules::types;

/// What one call may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Fuel (about one unit per WebAssembly instruction) for one call.
    pub fuel: u64,
    /// Linear memory, in bytes, a rule set may grow to.
    pub memory_bytes: usize,
    /// Table elements it may have.
    pub table_elements: usize,
    /// Instances a component may create.
    pub instances: usize,
    /// Log lines kept per call.
    pub log_lines: usize,
    /// Wall-clock time one call may take, in milliseconds, besides its fuel: a call that
    /// waits on nothing can still be slow (a memory-heavy loop), and a claim has a deadline.
    pub deadline_ms: u64,
    /// Bytes the rule set may hand the host in one crossing (a log line, or the findings or
    /// claim a call answers): what wasmtime copies out of the sandbox before the host sees
    /// it. A claim of 999 lines is far under it.
    pub host_copy_bytes: usize,
    /// Findings one call may return.
    pub findings: usize,
    /// Bytes of text one finding may carry (code, message and path together).
    pub finding_bytes: usize,
    /// What becomes of the rule set's log lines.
    pub logs: RuleLogs,
    /// Calls that may run at once (the pooling allocator's slots).
    pub concurrent_calls: u32,
}

impl Default for Limits {
    /// 11 M instructions (the budget Shopify Functions give), 16 MiB of memory.
    fn default() -> Self {
        Self {
            fuel: 11_000_000,
            memory_bytes: 16 << 20,
            table_elements: 10_000,
            instances: 10,
            log_lines: 100,
            concurrent_calls: 64,
            deadline_ms: 1_000,
            host_copy_bytes: 1 << 20,
            findings: 200,
            finding_bytes: 2 << 10,
            logs: RuleLogs::Redacted,
        }
    }
}

/// What becomes of a rule set's log lines. A rule set sees the whole claim, and the host
/// cannot tell whether a line holds a patient's name: deployed hosts keep only what a line
/// is (level, length, a hash to match repeats), and only a developer's host (the local
/// stack, `hms rules test`) keeps the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleLogs {
    /// The text of each line, for the rule set's author.
    Text,
    /// No text: the level, the length and the first 12 hex digits of its sha256.
    Redacted,
}

impl RuleLogs {
    /// `Text` only in the local stage (`STAGE=local`), `Redacted` everywhere else.
    pub fn for_stage(stage: Option<&str>) -> Self {
        if stage == Some("local") {
            Self::Text
        } else {
            Self::Redacted
        }
    }
}

/// How often the host's clock ticks for the rule sets' deadlines.
const TICK: std::time::Duration = std::time::Duration::from_millis(10);

/// A call's state: its limits and what the rule set logged.
struct CallState {
    limits: StoreLimits,
    log: Vec<(hms::payer_rules::host::Level, String)>,
    log_cap: usize,
    /// Lines past the cap, counted so that the drop is itself logged.
    dropped: usize,
    /// Whether the lines' text is kept.
    logs: RuleLogs,
}

/// The longest log line kept from a rule set, in bytes; the rest is cut.
const LOG_LINE_BYTES: usize = 512;

impl hms::payer_rules::host::Host for CallState {
    fn log(&mut self, level: hms::payer_rules::host::Level, mut message: String) {
        if self.log.len() >= self.log_cap {
            self.dropped += 1;
            return;
        }
        // The line was copied out of the sandbox within the call's host-copy budget; what is
        // kept is a short copy, so a cut line holds no more than it shows.
        if message.len() > LOG_LINE_BYTES {
            let mut end = LOG_LINE_BYTES;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            let mut short = String::with_capacity(end + '…'.len_utf8());
            short.push_str(message.get(..end).unwrap_or_default());
            short.push('…');
            message = short;
        }
        self.log.push((level, message));
    }
}

/// A call's log lines as `tracing` events, each naming the rule set; they join the caller's
/// span, which carries the request and claim ids. (Rule authors are told never to log PHI;
/// the host cannot tell, so it keeps lines short and few.)
fn emit_log(rule_set: &str, state: &CallState) {
    use hms::payer_rules::host::Level;
    for (level, message) in &state.log {
        if state.logs == RuleLogs::Redacted {
            let length = message.len();
            let digest = crate::sha256_hex(message.as_bytes());
            let line = digest.get(..12).unwrap_or_default();
            match level {
                Level::Debug => tracing::debug!(rule_set, length, line, "rule-set log line"),
                Level::Info => tracing::info!(rule_set, length, line, "rule-set log line"),
                Level::Warn => tracing::warn!(rule_set, length, line, "rule-set log line"),
                Level::Error => tracing::error!(rule_set, length, line, "rule-set log line"),
            }
            continue;
        }
        match level {
            Level::Debug => tracing::debug!(rule_set, "{message}"),
            Level::Info => tracing::info!(rule_set, "{message}"),
            Level::Warn => tracing::warn!(rule_set, "{message}"),
            Level::Error => tracing::error!(rule_set, "{message}"),
        }
    }
    if state.dropped > 0 {
        tracing::warn!(
            rule_set,
            dropped = state.dropped,
            "log lines past the per-call budget were dropped"
        );
    }
}

/// Why a rule set could not be loaded or did not answer.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    /// The engine could not be configured (`what` it was doing).
    #[error("the WebAssembly engine could not be set up ({what}): {source:#}")]
    Engine {
        /// What the host was setting up.
        what: String,
        /// What wasmtime said.
        #[source]
        source: wasmtime::Error,
    },
    /// A rule set was called through a host that did not load it.
    #[error("{component} was loaded by another host")]
    OtherHost {
        /// The component's label.
        component: String,
    },
    /// The bytes are not a component (or an artifact) this host can compile or load.
    #[error("{component}: not a valid WebAssembly component: {source:#}")]
    Invalid {
        /// The component's label.
        component: String,
        /// What wasmtime said.
        #[source]
        source: wasmtime::Error,
    },
    /// The cache of compiled components could not be written.
    #[error("{component}: the compiled component could not be cached at {path}")]
    Cache {
        /// The component's label.
        component: String,
        /// The cache file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The component does not implement world `rule-set` of `hms:payer-rules@1.x`, or imports
    /// something the host does not offer (WASI, say).
    #[error("{component}: does not fit the hms:payer-rules rule-set world: {message}")]
    WrongWorld {
        /// The component's label.
        component: String,
        /// What did not fit.
        message: String,
    },
    /// The call ran out of fuel: an endless loop, or too much work for one claim.
    #[error("{component}: stopped after its budget of {fuel} instructions")]
    OutOfFuel {
        /// The component's label.
        component: String,
        /// The budget.
        fuel: u64,
    },
    /// The call tried to grow memory past the cap.
    #[error("{component}: stopped when it grew its memory past {bytes} bytes")]
    Memory {
        /// The component's label.
        component: String,
        /// The cap.
        bytes: usize,
    },
    /// The call ran past its wall-clock deadline.
    #[error("{component}: stopped after its deadline of {ms} ms")]
    Deadline {
        /// The component's label.
        component: String,
        /// The deadline.
        ms: u64,
    },
    /// The rule set handed the host more than one host call may copy (a huge log line).
    #[error("{component}: stopped when it handed the host more than {bytes} bytes in one call")]
    HostCopy {
        /// The component's label.
        component: String,
        /// The budget.
        bytes: usize,
    },
    /// The rule set answered more findings, or longer ones, than a call may return.
    #[error("{component}: answered {what}, over the limit of {limit}")]
    Findings {
        /// The component's label.
        component: String,
        /// What was over (`5000 findings`, `a finding of 90000 bytes`).
        what: String,
        /// The limit.
        limit: usize,
    },
    /// The rule set trapped (a panic, an unreachable, an out-of-bounds access).
    #[error("{component}: trapped: {message}")]
    Trap {
        /// The component's label.
        component: String,
        /// The trap.
        message: String,
    },
}

/// A [`RuleError::Engine`] for `what`, from wasmtime's error.
fn engine_error(what: &'static str) -> impl Fn(wasmtime::Error) -> RuleError {
    move |source| RuleError::Engine {
        what: what.to_string(),
        source,
    }
}

/// Whether `dir` is a directory only its owner, this user, may write to (on Unix; elsewhere,
/// whether it is a directory).
#[cfg(feature = "compiler")]
fn private_dir(dir: &std::path::Path) -> bool {
    let Ok(meta) = std::fs::symlink_metadata(dir) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let owner = std::fs::metadata("/proc/self").map(|m| m.uid()).ok();
        meta.is_dir() && meta.permissions().mode() & 0o022 == 0 && Some(meta.uid()) == owner
    }
    #[cfg(not(unix))]
    {
        meta.is_dir()
    }
}

/// Creates `dir` (and its parents) for a cache only this user may write.
#[cfg(feature = "compiler")]
fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

/// The process's rule-set runtime.
pub struct RuleHost {
    engine: Engine,
    linker: Linker<CallState>,
    limits: Limits,
}

impl std::fmt::Debug for RuleHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleHost")
            .field("limits", &self.limits)
            .finish()
    }
}

/// Whether [`RuleHost::load_cached`] found the compiled component in its cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheUse {
    /// Read from the cache.
    Deserialized,
    /// Compiled, and written to the cache.
    Compiled,
}

/// A loaded rule set, ready to be called (compiled and linked once).
pub struct LoadedRules {
    label: String,
    pre: RuleSetPre<CallState>,
    /// The engine it was compiled for: another host's engine cannot run it.
    engine: Engine,
}

impl LoadedRules {
    /// The name it goes by in errors and logs: its file, and once the registry has asked the
    /// rule set who it is, `name version (file)`.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Names it by the rule set's own name and version, keeping the file it came from.
    pub fn identify(&mut self, name: &str, version: &str) {
        self.label = format!("{name} {version} ({})", self.label);
    }
}

impl std::fmt::Debug for LoadedRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedRules")
            .field("label", &self.label)
            .finish()
    }
}

/// The target `hms rules publish` precompiles rule sets for, whatever machine publishes: the
/// Lambda functions' (`provided.al2023`, x86_64), whose hosts carry no compiler.
pub const LAMBDA_TARGET: &str = "x86_64-unknown-linux-gnu";

/// This process's target as precompiled artifacts name theirs: an artifact for another target
/// is not even fetched.
pub const HOST_TARGET: &str = if cfg!(all(target_arch = "x86_64", target_os = "linux")) {
    "x86_64-unknown-linux-gnu"
} else if cfg!(all(target_arch = "aarch64", target_os = "linux")) {
    "aarch64-unknown-linux-gnu"
} else {
    "unsupported"
};

/// The engine's configuration, one for the hosts that run rule sets and for the compiler that
/// precompiles them: what goes into an artifact (fuel metering, memory reservation and guard)
/// must be what the host that loads it expects, or wasmtime refuses it.
fn config(limits: &Limits) -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.consume_fuel(true);
    // A deadline besides fuel: the host's clock thread ticks the engine's epoch.
    config.epoch_interruption(true);
    // Instances come from a pool sized for the calls that may run at once: instantiation
    // is a slot handed out, not an mmap, and no memory can outgrow its slot.
    let mut pool = PoolingAllocationConfig::default();
    let slots = limits.concurrent_calls.max(1);
    pool.total_component_instances(slots)
        .total_core_instances(slots.saturating_mul(limits.instances as u32))
        .total_memories(slots)
        .total_tables(slots)
        .max_memory_size(limits.memory_bytes)
        .table_elements(limits.table_elements);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    config.memory_reservation(limits.memory_bytes as u64);
    config.memory_guard_size(64 << 10);
    config
}

impl RuleHost {
    /// A host whose calls get `limits`.
    pub fn new(limits: Limits) -> Result<Self, RuleError> {
        let engine = Engine::new(&config(&limits)).map_err(engine_error("the engine"))?;
        // The clock: one thread per host ticks its engine's epoch; it ends once the host (and
        // every loaded rule set, which hold the engine) is gone.
        let weak = engine.weak();
        std::thread::Builder::new()
            .name("rules-clock".into())
            .spawn(move || {
                while let Some(engine) = weak.upgrade() {
                    engine.increment_epoch();
                    drop(engine);
                    std::thread::sleep(TICK);
                }
            })
            .map_err(|e| RuleError::Engine {
                what: "the deadline clock".into(),
                source: wasmtime::Error::msg(e.to_string()),
            })?;
        let mut linker = Linker::new(&engine);
        hms::payer_rules::host::add_to_linker::<CallState, HasSelf<CallState>>(
            &mut linker,
            |state| state,
        )
        .map_err(engine_error("the host interface"))?;
        Ok(Self {
            engine,
            linker,
            limits,
        })
    }

    /// Whether this host can compile components itself (the `compiler` feature); one that
    /// cannot loads only artifacts precompiled for it.
    pub const fn compiles() -> bool {
        cfg!(feature = "compiler")
    }

    /// Compiles and links `bytes` (a component), naming it `label` in every error.
    #[cfg(feature = "compiler")]
    pub fn load(&self, label: &str, bytes: &[u8]) -> Result<LoadedRules, RuleError> {
        let component =
            Component::new(&self.engine, bytes).map_err(|source| RuleError::Invalid {
                component: label.to_string(),
                source,
            })?;
        self.link(label, component)
    }

    /// `bytes` (a component) compiled for `target` with this host's configuration, as a host
    /// without a compiler on that target loads it ([`load_precompiled`](Self::load_precompiled)).
    /// The target's baseline CPU is assumed, not this machine's, so the artifact runs on
    /// any machine of the target.
    #[cfg(feature = "compiler")]
    pub fn precompile(
        &self,
        label: &str,
        bytes: &[u8],
        target: &str,
    ) -> Result<Vec<u8>, RuleError> {
        let mut config = config(&self.limits);
        config.target(target).map_err(|source| RuleError::Engine {
            what: format!("target {target}"),
            source,
        })?;
        let engine = Engine::new(&config).map_err(engine_error("the target's engine"))?;
        engine
            .precompile_component(bytes)
            .map_err(|source| RuleError::Invalid {
                component: label.to_string(),
                source,
            })
    }

    /// Links an artifact from [`precompile`](Self::precompile) without compiling anything:
    /// how a Lambda function loads its rule sets. wasmtime refuses an artifact made by
    /// another version or configuration, or for a CPU this machine lacks, naming why.
    ///
    /// The artifact is native code that runs outside the WebAssembly sandbox's checks of its
    /// bytes, so it must come from a trusted publisher: the registry pins it by sha256
    /// ([`crate::registry`]), and whoever may write the registry may deploy code.
    #[allow(unsafe_code)] // deserializing a pinned artifact; see the SAFETY comment
    pub fn load_precompiled(&self, label: &str, artifact: &[u8]) -> Result<LoadedRules, RuleError> {
        // SAFETY: wasmtime requires that the bytes come from its own `precompile_component`
        // and were not altered since. The registry only hands over an artifact whose sha256
        // matches the pin its publisher (`hms rules publish`) wrote beside the component's,
        // and wasmtime checks the version, configuration, target and CPU features it was
        // made for.
        let component =
            unsafe { Component::deserialize(&self.engine, artifact) }.map_err(|source| {
                RuleError::Invalid {
                    component: label.to_string(),
                    source: source.context("precompiled for another host"),
                }
            })?;
        self.link(label, component)
    }

    /// As [`load`](Self::load), through a cache of compiled components in `cache`: the file
    /// is named by the sha256 of the component and a hash of the engine's configuration, so a
    /// cold start deserializes instead of compiling, and a different engine never reads it.
    ///
    /// A cached artifact is native code, so it is loaded only when its own sha256 matches the
    /// one written beside it when it was compiled, and only from a directory that is this
    /// user's alone (not writable by group or others). Anything else is compiled afresh: a
    /// swapped or damaged file never runs under another rule set's name.
    #[cfg(feature = "compiler")]
    #[allow(unsafe_code)] // deserializing artifacts this engine wrote; see the SAFETY comment
    pub fn load_cached(
        &self,
        label: &str,
        bytes: &[u8],
        cache: &std::path::Path,
    ) -> Result<(LoadedRules, CacheUse), RuleError> {
        use std::hash::{Hash, Hasher};
        let mut engine_hash = std::collections::hash_map::DefaultHasher::new();
        self.engine
            .precompile_compatibility_hash()
            .hash(&mut engine_hash);
        let file = cache.join(format!(
            "{}-{:016x}.cwasm",
            crate::sha256_hex(bytes),
            engine_hash.finish()
        ));
        let pin = file.with_extension("cwasm.sha256");
        let invalid = |source: wasmtime::Error| RuleError::Invalid {
            component: label.to_string(),
            source,
        };
        if private_dir(cache)
            && let Ok(artifact) = std::fs::read(&file)
            && std::fs::read_to_string(&pin).is_ok_and(|p| p.trim() == crate::sha256_hex(&artifact))
        {
            // SAFETY: the bytes are an artifact this engine's `precompile_component` wrote
            // (below), unaltered since: their sha256 is the one written beside them then, in a
            // directory only this user may write. wasmtime also checks that the artifact was
            // made by a compatible engine.
            let component = unsafe { Component::deserialize(&self.engine, &artifact) }
                .map_err(|e| invalid(e.context(file.display().to_string())))?;
            return Ok((self.link(label, component)?, CacheUse::Deserialized));
        }
        let compiled = self.engine.precompile_component(bytes).map_err(invalid)?;
        let written = create_private_dir(cache).and_then(|()| {
            // Written aside and renamed, the artifact before its pin, so a reader never
            // sees half a file or a pin without its artifact.
            let partial = file.with_extension("partial");
            std::fs::write(&partial, &compiled)?;
            std::fs::rename(&partial, &file)?;
            let partial_pin = pin.with_extension("partial");
            std::fs::write(&partial_pin, crate::sha256_hex(&compiled))?;
            std::fs::rename(&partial_pin, &pin)
        });
        written.map_err(|source| RuleError::Cache {
            component: label.to_string(),
            path: file.clone(),
            source,
        })?;
        // SAFETY: the bytes were produced by this engine's `precompile_component` just above.
        let component =
            unsafe { Component::deserialize(&self.engine, &compiled) }.map_err(invalid)?;
        Ok((self.link(label, component)?, CacheUse::Compiled))
    }

    fn link(&self, label: &str, component: Component) -> Result<LoadedRules, RuleError> {
        let wrong = |e: wasmtime::Error| RuleError::WrongWorld {
            component: label.to_string(),
            message: format!("{e:#}"),
        };
        let instance_pre = self.linker.instantiate_pre(&component).map_err(wrong)?;
        let pre = RuleSetPre::new(instance_pre).map_err(wrong)?;
        Ok(LoadedRules {
            label: label.to_string(),
            pre,
            engine: self.engine.clone(),
        })
    }

    /// A store for one call of `rules`, which must have been loaded by this host.
    fn store(&self, rules: &LoadedRules) -> Result<Store<CallState>, RuleError> {
        if !Engine::same(&self.engine, &rules.engine) {
            return Err(RuleError::OtherHost {
                component: rules.label.clone(),
            });
        }
        let limits = StoreLimitsBuilder::new()
            .memory_size(self.limits.memory_bytes)
            .table_elements(self.limits.table_elements)
            .instances(self.limits.instances)
            .trap_on_grow_failure(true)
            .build();
        let mut store = Store::new(
            &self.engine,
            CallState {
                limits,
                log: vec![],
                log_cap: self.limits.log_lines,
                dropped: 0,
                logs: self.limits.logs,
            },
        );
        store.limiter(|state| &mut state.limits);
        store
            .set_fuel(self.limits.fuel)
            .map_err(engine_error("the call's fuel"))?;
        let ticks = self
            .limits
            .deadline_ms
            .div_ceil(TICK.as_millis() as u64)
            .max(1);
        store.set_epoch_deadline(ticks);
        store.epoch_deadline_trap();
        store.set_hostcall_fuel(self.limits.host_copy_bytes);
        Ok(store)
    }

    /// A fresh store and instance of `rules` for one call.
    fn instance(&self, rules: &LoadedRules) -> Result<(Store<CallState>, RuleSet), RuleError> {
        let mut store = self.store(rules)?;
        let instance = rules
            .pre
            .instantiate(&mut store)
            .map_err(|e| self.failure(rules, e))?;
        Ok((store, instance))
    }

    /// What went wrong in a call, named.
    fn failure(&self, rules: &LoadedRules, e: wasmtime::Error) -> RuleError {
        let component = rules.label.clone();
        match e.downcast_ref::<wasmtime::Trap>() {
            Some(wasmtime::Trap::OutOfFuel) => {
                return RuleError::OutOfFuel {
                    component,
                    fuel: self.limits.fuel,
                };
            }
            Some(wasmtime::Trap::Interrupt) => {
                return RuleError::Deadline {
                    component,
                    ms: self.limits.deadline_ms,
                };
            }
            _ => {}
        }
        let message = format!("{e:#}");
        if message.contains("fuel allocated for hostcalls") {
            return RuleError::HostCopy {
                component,
                bytes: self.limits.host_copy_bytes,
            };
        }
        if message.contains("forcing trap when growing memory") {
            return RuleError::Memory {
                component,
                bytes: self.limits.memory_bytes,
            };
        }
        RuleError::Trap { component, message }
    }

    /// The rule set's name, version and payer ids.
    pub fn describe(&self, rules: &LoadedRules) -> Result<types::RuleSetInfo, RuleError> {
        let (mut store, instance) = self.instance(rules)?;
        let answer = instance
            .hms_payer_rules_rules()
            .call_describe(&mut store)
            .map_err(|e| self.failure(rules, e));
        emit_log(&rules.label, store.data());
        answer
    }

    /// The rule set's mapping of `claim`, or its findings when it cannot map it.
    pub fn transform(
        &self,
        rules: &LoadedRules,
        claim: &types::Claim,
    ) -> Result<Result<types::Claim, Vec<types::Finding>>, RuleError> {
        let (mut store, instance) = self.instance(rules)?;
        let answer = instance
            .hms_payer_rules_rules()
            .call_transform_claim(&mut store, claim)
            .map_err(|e| self.failure(rules, e));
        emit_log(&rules.label, store.data());
        match answer? {
            Ok(claim) => Ok(Ok(claim)),
            Err(findings) => self.bounded(rules, findings).map(Err),
        }
    }

    /// `findings` when they are within the call's limits, or the error that names the excess.
    fn bounded(
        &self,
        rules: &LoadedRules,
        findings: Vec<types::Finding>,
    ) -> Result<Vec<types::Finding>, RuleError> {
        let over = |what: String, limit: usize| RuleError::Findings {
            component: rules.label.clone(),
            what,
            limit,
        };
        if findings.len() > self.limits.findings {
            return Err(over(
                format!("{} findings", findings.len()),
                self.limits.findings,
            ));
        }
        let longest = findings
            .iter()
            .map(|f| f.code.len() + f.message.len() + f.path.len())
            .max()
            .unwrap_or(0);
        if longest > self.limits.finding_bytes {
            return Err(over(
                format!("a finding of {longest} bytes"),
                self.limits.finding_bytes,
            ));
        }
        Ok(findings)
    }

    /// The rule set's findings on `claim`, with the fuel the call used.
    pub fn validate(
        &self,
        rules: &LoadedRules,
        claim: &types::Claim,
    ) -> Result<(Vec<types::Finding>, u64), RuleError> {
        let (mut store, instance) = self.instance(rules)?;
        let findings = instance
            .hms_payer_rules_rules()
            .call_validate_claim(&mut store, claim)
            .map_err(|e| self.failure(rules, e));
        emit_log(&rules.label, store.data());
        let findings = self.bounded(rules, findings?)?;
        let left = store.get_fuel().unwrap_or(0);
        Ok((findings, self.limits.fuel.saturating_sub(left)))
    }
}
