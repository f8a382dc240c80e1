//! Which rule set serves which payer: a registry file names, for each rule set, its component
//! file, the sha256 it is pinned to, and its payer ids. A component whose bytes do not hash to
//! its pin is refused; a new version is swapped in by rewriting the file and calling
//! [`Registry::reload`], with no restart (calls in flight keep the version they started with).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use serde::Deserialize;

use crate::host::{LoadedRules, RuleError, RuleHost};

/// The registry file (`rules.json` in the rules directory).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegistryFile {
    /// The rule sets.
    pub rule_sets: Vec<RuleSetEntry>,
}

/// One rule set of the registry.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuleSetEntry {
    /// The component file, relative to the rules directory.
    pub component: PathBuf,
    /// The sha256 its bytes must have (lower-case hex).
    pub sha256: String,
    /// The payer ids it serves.
    pub payer_ids: Vec<String>,
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
    /// A component's bytes do not hash to its pin.
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
}

/// Payer id → its loaded rule set, swappable while calls run.
#[derive(Debug)]
pub struct Registry {
    directory: PathBuf,
    cache: Option<PathBuf>,
    by_payer: RwLock<HashMap<String, Arc<LoadedRules>>>,
}

impl Registry {
    /// The registry of `directory` (its `rules.json`), compiled components cached in `cache`
    /// when given.
    pub fn open(
        host: &RuleHost,
        directory: &Path,
        cache: Option<&Path>,
    ) -> Result<Self, RegistryError> {
        let registry = Self {
            directory: directory.to_path_buf(),
            cache: cache.map(Path::to_path_buf),
            by_payer: RwLock::new(HashMap::new()),
        };
        registry.reload(host)?;
        Ok(registry)
    }

    /// Reads the registry file again and loads what it names; on any error the registry in
    /// use is kept whole, and the error says which file and why.
    pub fn reload(&self, host: &RuleHost) -> Result<usize, RegistryError> {
        let path = self.directory.join("rules.json");
        let text = std::fs::read(&path).map_err(|e| RegistryError::Io {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let file: RegistryFile =
            serde_json::from_slice(&text).map_err(|e| RegistryError::Format {
                path: path.clone(),
                message: e.to_string(),
            })?;
        let mut by_payer: HashMap<String, (PathBuf, Arc<LoadedRules>)> = HashMap::new();
        for entry in &file.rule_sets {
            let component = self.directory.join(&entry.component);
            let bytes = std::fs::read(&component).map_err(|e| RegistryError::Io {
                path: component.clone(),
                message: e.to_string(),
            })?;
            let actual = crate::sha256_hex(&bytes);
            if !actual.eq_ignore_ascii_case(&entry.sha256) {
                return Err(RegistryError::PinMismatch {
                    component,
                    pinned: entry.sha256.clone(),
                    actual,
                });
            }
            let label = entry.component.display().to_string();
            let loaded = match &self.cache {
                Some(cache) => host.load_cached(&label, &bytes, cache)?.0,
                None => host.load(&label, &bytes)?,
            };
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
