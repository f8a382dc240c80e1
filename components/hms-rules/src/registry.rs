//! Which rule set serves which payer: a registry file names, for each rule set, its component
//! file, the sha256 it is pinned to, and its payer ids. A component whose bytes do not hash to
//! its pin is refused; a new version is swapped in by rewriting the file and calling
//! [`Registry::reload`] (or [`Registry::reload_from_store`]), with no restart (calls in flight
//! keep the version they started with).
//!
//! The registry lives in a directory (the CLI, the local stack) or behind the object-store port
//! (S3 in production): `rules.json` and the components under one prefix.
//!
//! `hms rules publish` also pins, for each rule set, the component precompiled for the Lambda
//! target. A host finds the artifact for its own target and loads it without compiling (the
//! functions carry no compiler: a smaller bootstrap and no compilation at a cold start); only
//! a host with the `compiler` feature falls back to compiling the component. Every artifact a
//! host reads is fetched at once, concurrently.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};

use hms_service::ports::{ObjectStore, ObjectStoreError};

use crate::host::{HOST_TARGET, LoadedRules, RuleError, RuleHost};

/// The registry file (`rules.json` in the rules directory).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegistryFile {
    /// The rule sets.
    pub rule_sets: Vec<RuleSetEntry>,
}

/// One rule set of the registry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuleSetEntry {
    /// The component file, relative to the rules directory.
    pub component: PathBuf,
    /// The sha256 its bytes must have (lower-case hex).
    pub sha256: String,
    /// The payer ids it serves.
    pub payer_ids: Vec<String>,
    /// The component precompiled for targets, each pinned too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub precompiled: Vec<PrecompiledEntry>,
}

/// A rule set's component precompiled for one target by `hms rules publish`: native code, so
/// pinned like the component and trusted as the registry is.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrecompiledEntry {
    /// The target triple it runs on (`x86_64-unknown-linux-gnu`).
    pub target: String,
    /// The artifact file, relative to the rules directory.
    pub file: PathBuf,
    /// The sha256 its bytes must have (lower-case hex).
    pub sha256: String,
}

/// What a host reads of one rule set: the artifact precompiled for its target, or the
/// component to compile.
#[derive(Debug, Clone, Copy)]
struct Artifact<'a> {
    file: &'a Path,
    sha256: &'a str,
    precompiled: bool,
}

impl RuleSetEntry {
    /// The artifact precompiled for this host's target when the registry has one, else the
    /// component when this host can compile it.
    fn artifact(&self) -> Result<Artifact<'_>, RegistryError> {
        if let Some(p) = self.precompiled.iter().find(|p| p.target == HOST_TARGET) {
            return Ok(Artifact {
                file: &p.file,
                sha256: &p.sha256,
                precompiled: true,
            });
        }
        if RuleHost::compiles() {
            return Ok(Artifact {
                file: &self.component,
                sha256: &self.sha256,
                precompiled: false,
            });
        }
        Err(RegistryError::NotPrecompiled {
            component: self.component.clone(),
            target: HOST_TARGET.to_string(),
        })
    }
}

/// Why the registry could not be (re)loaded; the registry in use stays as it was.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The registry file or a component could not be read.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The registry file is not valid.
    #[error("{path}: not a rules registry: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        message: String,
    },
    /// A host without a compiler found no artifact precompiled for its target.
    #[error(
        "{component}: the registry holds no artifact precompiled for {target}, and this host does not compile; publish it with `hms rules publish`"
    )]
    NotPrecompiled {
        /// The component file.
        component: PathBuf,
        /// This host's target.
        target: String,
    },
    /// A component's (or an artifact's) bytes do not hash to its pin.
    #[error("{component}: sha256 is {actual}, but the registry pins {pinned}; refused")]
    PinMismatch {
        /// The component file.
        component: PathBuf,
        /// The pin.
        pinned: String,
        /// What the bytes hash to.
        actual: String,
    },
    /// Two rule sets claim one payer id.
    #[error("payer id {payer_id} is served by both {first} and {second}")]
    DuplicatePayer {
        /// The payer id.
        payer_id: String,
        /// One component.
        first: PathBuf,
        /// The other.
        second: PathBuf,
    },
    /// A component did not load.
    #[error(transparent)]
    Rules(#[from] RuleError),
    /// The registry names a payer its rule set does not say it serves (`describe`): a pin to
    /// the wrong component, most likely.
    #[error(
        "{component} ({name} {version}) is registered for payer id {payer_id}, which it does not serve (it serves {served:?}); refused"
    )]
    PayerNotServed {
        /// The component file.
        component: PathBuf,
        /// The rule set's name.
        name: String,
        /// Its version.
        version: String,
        /// The payer id the registry gives it.
        payer_id: String,
        /// The payer ids it says it serves.
        served: Vec<String>,
    },
    /// The object store failed.
    #[error(transparent)]
    Store(#[from] ObjectStoreError),
}

/// Payer id → its loaded rule set, swappable while calls run.
#[derive(Debug)]
pub struct Registry {
    /// The directory it was opened on; `None` for one read through an object store.
    directory: Option<PathBuf>,
    /// Where compiled components are cached (a host without a compiler has none to cache).
    #[cfg_attr(not(feature = "compiler"), allow(dead_code))]
    cache: Option<PathBuf>,
    by_payer: RwLock<HashMap<String, Arc<LoadedRules>>>,
}

/// The registry file's name within its directory or prefix.
pub const REGISTRY_FILE: &str = "rules.json";

impl Registry {
    fn empty(directory: Option<&Path>, cache: Option<&Path>) -> Self {
        Self {
            directory: directory.map(Path::to_path_buf),
            cache: cache.map(Path::to_path_buf),
            by_payer: RwLock::new(HashMap::new()),
        }
    }

    /// The registry of `directory` (its `rules.json`), compiled components cached in `cache`
    /// when given.
    pub fn open(
        host: &RuleHost,
        directory: &Path,
        cache: Option<&Path>,
    ) -> Result<Self, RegistryError> {
        let registry = Self::empty(Some(directory), cache);
        registry.reload(host)?;
        Ok(registry)
    }

    /// The registry under `prefix` of `store` (`{prefix}rules.json`, components named
    /// relative to the prefix), compiled components cached in `cache` when given: how a
    /// Lambda reads its rule sets from S3.
    pub async fn open_store(
        host: &RuleHost,
        store: &impl ObjectStore,
        prefix: &str,
        cache: Option<&Path>,
    ) -> Result<Self, RegistryError> {
        let registry = Self::empty(None, cache);
        registry.reload_from_store(host, store, prefix).await?;
        Ok(registry)
    }

    /// As [`open_store`](Self::open_store), or `None` when `store` holds no registry under
    /// `prefix` (no rule sets deployed), with one read of the registry file either way.
    pub async fn open_store_if_present(
        host: &RuleHost,
        store: &impl ObjectStore,
        prefix: &str,
        cache: Option<&Path>,
    ) -> Result<Option<Self>, RegistryError> {
        let key = format!("{prefix}{REGISTRY_FILE}");
        let Some(text) = store.get(&key).await? else {
            return Ok(None);
        };
        let registry = Self::empty(None, cache);
        let file = parse(Path::new(&key), &text)?;
        registry.load_from_store(host, store, prefix, &file).await?;
        Ok(Some(registry))
    }

    /// Reads the registry file of the directory again and loads what it names; on any error
    /// the registry in use is kept whole, and the error says which file and why.
    pub fn reload(&self, host: &RuleHost) -> Result<usize, RegistryError> {
        let Some(directory) = &self.directory else {
            return Err(RegistryError::Io {
                path: PathBuf::from(REGISTRY_FILE),
                message: "this registry was read from an object store; reload it from there".into(),
            });
        };
        let read = |path: &Path| {
            std::fs::read(path).map_err(|e| RegistryError::Io {
                path: path.to_path_buf(),
                message: e.to_string(),
            })
        };
        let path = directory.join(REGISTRY_FILE);
        let file = parse(&path, &read(&path)?)?;
        let mut artifacts = Vec::with_capacity(file.rule_sets.len());
        for entry in &file.rule_sets {
            let path = directory.join(entry.artifact()?.file);
            artifacts.push((path.clone(), read(&path)?));
        }
        self.install(host, &file, artifacts)
    }

    /// As [`reload`](Self::reload), from `prefix` of `store`.
    pub async fn reload_from_store(
        &self,
        host: &RuleHost,
        store: &impl ObjectStore,
        prefix: &str,
    ) -> Result<usize, RegistryError> {
        let key = format!("{prefix}{REGISTRY_FILE}");
        let file = match store.get(&key).await? {
            Some(bytes) => parse(Path::new(&key), &bytes)?,
            None => return Err(missing(&key)),
        };
        self.load_from_store(host, store, prefix, &file).await
    }

    /// Fetches what `file` names for this host from `prefix` of `store` and installs it.
    async fn load_from_store(
        &self,
        host: &RuleHost,
        store: &impl ObjectStore,
        prefix: &str,
        file: &RegistryFile,
    ) -> Result<usize, RegistryError> {
        // A cold start waits for these: all of them at once.
        let keys = file
            .rule_sets
            .iter()
            .map(|entry| Ok(format!("{prefix}{}", entry.artifact()?.file.display())))
            .collect::<Result<Vec<_>, RegistryError>>()?;
        let fetched =
            futures_util::future::try_join_all(keys.iter().map(|key| store.get(key))).await?;
        let artifacts = keys
            .into_iter()
            .zip(fetched)
            .map(|(key, bytes)| match bytes {
                Some(bytes) => Ok((PathBuf::from(key), bytes)),
                None => Err(missing(&key)),
            })
            .collect::<Result<Vec<_>, RegistryError>>()?;
        self.install(host, file, artifacts)
    }

    /// Checks each artifact against its pin and each rule set's payer ids against what it
    /// says it serves, loads them, and swaps the whole map in; on any error nothing changes.
    fn install(
        &self,
        host: &RuleHost,
        file: &RegistryFile,
        artifacts: Vec<(PathBuf, Vec<u8>)>,
    ) -> Result<usize, RegistryError> {
        let mut by_payer: HashMap<String, (PathBuf, Arc<LoadedRules>)> = HashMap::new();
        for (entry, (component, bytes)) in file.rule_sets.iter().zip(artifacts) {
            let artifact = entry.artifact()?;
            let actual = crate::sha256_hex(&bytes);
            if !actual.eq_ignore_ascii_case(artifact.sha256) {
                return Err(RegistryError::PinMismatch {
                    component,
                    pinned: artifact.sha256.to_string(),
                    actual,
                });
            }
            let label = entry.component.display().to_string();
            let mut loaded = if artifact.precompiled {
                host.load_precompiled(&label, &bytes)?
            } else {
                self.compile(host, &label, &bytes)?
            };
            // Named by what it says it is from here on: every error and log line carries the
            // rule set's name and version beside its file.
            let info = host.describe(&loaded)?;
            for payer_id in &entry.payer_ids {
                if !info.payer_ids.contains(payer_id) {
                    return Err(RegistryError::PayerNotServed {
                        component,
                        name: info.name,
                        version: info.version,
                        payer_id: payer_id.clone(),
                        served: info.payer_ids,
                    });
                }
            }
            loaded.identify(&info.name, &info.version);
            let loaded = Arc::new(loaded);
            for payer_id in &entry.payer_ids {
                if let Some((first, _)) = by_payer.get(payer_id) {
                    return Err(RegistryError::DuplicatePayer {
                        payer_id: payer_id.clone(),
                        first: first.clone(),
                        second: component,
                    });
                }
                by_payer.insert(payer_id.clone(), (component.clone(), Arc::clone(&loaded)));
            }
        }
        let count = by_payer.len();
        let fresh = by_payer.into_iter().map(|(k, (_, v))| (k, v)).collect();
        match self.by_payer.write() {
            Ok(mut current) => *current = fresh,
            // A writer panicked mid-swap elsewhere: replace the poisoned map all the same.
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
        Ok(count)
    }

    /// The rule set serving `payer_id`, if any (the version current when asked).
    pub fn for_payer(&self, payer_id: &str) -> Option<Arc<LoadedRules>> {
        let map = match self.by_payer.read() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.get(payer_id).cloned()
    }
}

impl Registry {
    /// A component compiled by this host (through the cache when the registry has one).
    #[cfg(feature = "compiler")]
    fn compile(
        &self,
        host: &RuleHost,
        label: &str,
        bytes: &[u8],
    ) -> Result<LoadedRules, RegistryError> {
        Ok(match &self.cache {
            Some(cache) => host.load_cached(label, bytes, cache)?.0,
            None => host.load(label, bytes)?,
        })
    }

    /// Never reached: without a compiler, [`RuleSetEntry::artifact`] names only precompiled
    /// artifacts.
    #[cfg(not(feature = "compiler"))]
    fn compile(&self, _: &RuleHost, label: &str, _: &[u8]) -> Result<LoadedRules, RegistryError> {
        Err(RegistryError::NotPrecompiled {
            component: PathBuf::from(label),
            target: HOST_TARGET.to_string(),
        })
    }
}

fn missing(key: &str) -> RegistryError {
    RegistryError::Io {
        path: PathBuf::from(key),
        message: "no such object".into(),
    }
}

fn parse(path: &Path, text: &[u8]) -> Result<RegistryFile, RegistryError> {
    serde_json::from_slice(text).map_err(|e| RegistryError::Format {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}
