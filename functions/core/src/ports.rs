//! How the core reaches the world: traits (ports) with an adapter per environment, so that the
//! same domain code runs over S3 in production, over a directory on a developer's machine, and
//! over memory in unit tests. Adapters that need AWS live outside this crate; the ones here
//! need nothing but the standard library.
//!
//! The ports are `async` because their production adapters are network calls made from a
//! Lambda's async runtime; the in-memory and directory adapters answer at once.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

/// Why an object could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObjectStoreError {
    /// The key is not one an object store can hold safely: empty, absolute, or with `..`
    /// or empty segments (which a directory adapter would resolve outside its root).
    #[error("object key {key:?} is not valid: {reason}")]
    InvalidKey {
        /// The key.
        key: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The store did not answer, or refused.
    #[error("object store failed on {key:?}: {message}")]
    Unavailable {
        /// The key.
        key: String,
        /// What the store said.
        message: String,
    },
}

/// Blobs by key: raw X12 as received, payer rule-set components, remittance files. S3 in
/// production (keys are object keys within one bucket).
pub trait ObjectStore: Send + Sync {
    /// The object under `key`, or `None` when there is none.
    fn get(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<Vec<u8>>, ObjectStoreError>> + Send;

    /// Stores `bytes` under `key`, replacing what was there.
    fn put(
        &self,
        key: &str,
        bytes: Vec<u8>,
    ) -> impl Future<Output = Result<(), ObjectStoreError>> + Send;
}

/// Checks that `key` is a relative, `/`-separated key without `..` or empty segments.
pub fn check_key(key: &str) -> Result<(), ObjectStoreError> {
    let invalid = |reason| {
        Err(ObjectStoreError::InvalidKey {
            key: key.to_string(),
            reason,
        })
    };
    if key.is_empty() {
        return invalid("it is empty");
    }
    if key.starts_with('/') || key.contains('\\') {
        return invalid("it must be relative and use '/' between segments");
    }
    if key
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return invalid("it has an empty, '.' or '..' segment");
    }
    Ok(())
}

/// Objects in memory, for unit tests.
#[derive(Debug, Default)]
pub struct InMemoryObjectStore {
    objects: Mutex<BTreeMap<String, Vec<u8>>>,
}

impl InMemoryObjectStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn objects(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Vec<u8>>> {
        // A test that panicked while holding the lock leaves the map as it was.
        self.objects
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The keys held, in order.
    pub fn keys(&self) -> Vec<String> {
        self.objects().keys().cloned().collect()
    }
}

impl ObjectStore for InMemoryObjectStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ObjectStoreError> {
        check_key(key)?;
        Ok(self.objects().get(key).cloned())
    }

    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), ObjectStoreError> {
        check_key(key)?;
        self.objects().insert(key.to_string(), bytes);
        Ok(())
    }
}

/// Objects as files under a directory (a key's segments are its path): the local stack's and
/// the CLI's object store.
#[derive(Debug, Clone)]
pub struct DirectoryObjectStore {
    root: PathBuf,
}

impl DirectoryObjectStore {
    /// The store rooted at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// Where `key` lives on disk.
    fn path(&self, key: &str) -> Result<PathBuf, ObjectStoreError> {
        check_key(key)?;
        let path = self.root.join(Path::new(key));
        // check_key leaves only normal segments; say so should that ever change.
        debug_assert!(
            path.strip_prefix(&self.root)
                .is_ok_and(|p| p.components().all(|c| matches!(c, Component::Normal(_))))
        );
        Ok(path)
    }
}

impl ObjectStore for DirectoryObjectStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ObjectStoreError> {
        let path = self.path(key)?;
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ObjectStoreError::Unavailable {
                key: key.to_string(),
                message: e.to_string(),
            }),
        }
    }

    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), ObjectStoreError> {
        let path = self.path(key)?;
        let failed = |e: std::io::Error| ObjectStoreError::Unavailable {
            key: key.to_string(),
            message: e.to_string(),
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(failed)?;
        }
        // Written aside and renamed: a reader sees the old object or the new one, never half.
        let partial = path.with_extension("partial~");
        std::fs::write(&partial, &bytes).map_err(failed)?;
        std::fs::rename(&partial, &path).map_err(failed)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    use pollster::block_on as ready;

    #[test]
    fn keys_that_could_escape_or_mean_two_things_are_refused() {
        for bad in [
            "",
            "/etc/passwd",
            "a/../b",
            "a//b",
            "./a",
            "a/",
            "a\\b",
            "..",
        ] {
            assert!(
                matches!(check_key(bad), Err(ObjectStoreError::InvalidKey { .. })),
                "{bad:?}"
            );
        }
        for good in [
            "rules.json",
            "rules/prior-auth.wasm",
            "inbound/2026/12/02/x.835",
        ] {
            assert_eq!(check_key(good), Ok(()), "{good:?}");
        }
    }

    #[test]
    fn memory_and_directory_stores_keep_what_is_put_and_say_none_for_what_is_not() {
        let dir = std::env::temp_dir().join(format!("hms-objects-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let on_disk = DirectoryObjectStore::new(&dir);
        let in_memory = InMemoryObjectStore::new();
        fn exercise(store: &impl ObjectStore) {
            assert_eq!(ready(store.get("rules/a.wasm")).unwrap(), None);
            ready(store.put("rules/a.wasm", b"one".to_vec())).unwrap();
            ready(store.put("rules/a.wasm", b"two".to_vec())).unwrap();
            assert_eq!(
                ready(store.get("rules/a.wasm")).unwrap().as_deref(),
                Some(&b"two"[..])
            );
            assert!(ready(store.put("../x", vec![])).is_err());
        }
        exercise(&on_disk);
        exercise(&in_memory);
        assert_eq!(in_memory.keys(), ["rules/a.wasm"]);
        assert!(!dir.join("x").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
