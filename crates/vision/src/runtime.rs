//! ONNX Runtime behind a small, thread-safe API.
//!
//! The onnxruntime shared library is not linked at build time: it is provisioned like a model
//! (see [`crate::provision`]) and opened with `dlopen` once per process. Everything else in the
//! crate goes through [`Runtime::load`] / [`Runtime::load_bytes`] and [`OnnxModel::run`].
//!
//! `ort::Session::run` takes `&mut self`, but models are shared behind `&self` by every request
//! worker. Each [`OnnxModel`] therefore keeps a small pool of sessions over the same bytes: one
//! built eagerly (so a broken model fails at load time, and start-up stays cheap), more built
//! lazily when callers actually contend, up to the number of cores. Each session uses a single
//! intra-op thread: parallelism comes from running several requests at once, which on small CNNs
//! like these beats splitting one inference across threads. Where one face needs two
//! independent networks (Livegate's PAD model, [`crate::pad::LivegatePad`]), they are two graphs
//! that the caller runs at the same time.
//!
//! ```no_run
//! # fn main() -> Result<(), vision::VisionError> {
//! use vision::runtime::Runtime;
//! let store = vision::provision::ModelStore::open_default().unwrap();
//! let rt = Runtime::from_store(&store)?;
//! let model = rt.load("blazeface", &store.path(vision::provision::ModelId::BlazeFaceShort).unwrap())?;
//! let input = ndarray::Array4::<f32>::zeros((1, 128, 128, 3)).into_dyn();
//! let outputs = model.run(vec![input])?;
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, OnceLock};

use ndarray::ArrayD;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::Tensor;

use crate::face::VisionError;

/// The process-wide ONNX Runtime environment. Cheap to clone via `Arc`.
pub struct Runtime {
    env: ort::environment::Environment,
    library: PathBuf,
    max_sessions: usize,
}

static RUNTIME: OnceLock<Arc<Runtime>> = OnceLock::new();
static INIT_LOCK: Mutex<()> = Mutex::new(());

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("library", &self.library)
            .field("max_sessions", &self.max_sessions)
            .finish()
    }
}

fn runtime_error(message: impl std::fmt::Display) -> VisionError {
    VisionError::ModelMissing {
        model: "onnxruntime".into(),
        message: message.to_string(),
    }
}

impl Runtime {
    /// Opens `libonnxruntime.so` at `library` and creates the environment.
    ///
    /// The library can be loaded only once per process (ort keeps it in a global), so later calls
    /// return the first runtime whatever path they are given.
    pub fn init(library: &Path) -> Result<Arc<Runtime>, VisionError> {
        if let Some(rt) = RUNTIME.get() {
            return Ok(rt.clone());
        }
        let _guard = INIT_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(rt) = RUNTIME.get() {
            return Ok(rt.clone());
        }
        if !library.is_file() {
            return Err(runtime_error(format!(
                "{} does not exist; run `livegate models fetch`",
                library.display()
            )));
        }
        let env = ort::init_from(library)
            .map_err(|e| runtime_error(format!("cannot open {}: {e}", library.display())))?
            .with_name("livegate")
            .with_telemetry(false)
            .build()
            .map_err(runtime_error)?;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let rt = Arc::new(Runtime {
            env,
            library: library.to_path_buf(),
            max_sessions: cores.clamp(1, 16),
        });
        let _ = RUNTIME.set(rt.clone());
        Ok(rt)
    }

    /// The runtime whose library is in `store` (see [`crate::provision::ModelStore::path`]).
    pub fn from_store(store: &crate::provision::ModelStore) -> Result<Arc<Runtime>, VisionError> {
        if let Some(rt) = RUNTIME.get() {
            return Ok(rt.clone());
        }
        let path = store
            .path(crate::provision::ModelId::OnnxRuntime)
            .map_err(runtime_error)?;
        Self::init(&path)
    }

    /// Path of the shared library this runtime was loaded from.
    pub fn library(&self) -> &Path {
        &self.library
    }

    /// Upper bound of concurrent sessions per model (the number of cores).
    pub fn max_sessions(&self) -> usize {
        self.max_sessions
    }

    /// Loads catalog model `id` from `store` (never fetches); `name` as in [`Runtime::load`].
    pub fn load_stored(
        &self,
        name: &'static str,
        store: &crate::provision::ModelStore,
        id: crate::provision::ModelId,
    ) -> Result<OnnxModel, VisionError> {
        let path = store.path(id).map_err(|e| VisionError::ModelMissing {
            model: name.into(),
            message: e.to_string(),
        })?;
        self.load(name, &path)
    }

    /// Loads an ONNX file, its subnormal weights set to zero. `name` is used in errors and logs.
    pub fn load(&self, name: &'static str, path: &Path) -> Result<OnnxModel, VisionError> {
        let bytes = std::fs::read(path).map_err(|e| VisionError::ModelMissing {
            model: name.into(),
            message: format!("cannot read {}: {e}", path.display()),
        })?;
        self.load_read(name, bytes)
    }

    /// Loads the bytes of an ONNX file already read (its subnormal weights set to zero, as
    /// [`Runtime::load`] does), for callers that also look at the file's bytes.
    pub fn load_read(
        &self,
        name: &'static str,
        mut bytes: Vec<u8>,
    ) -> Result<OnnxModel, VisionError> {
        // Models from elsewhere may carry subnormal weights, which cost several times their
        // arithmetic on x86 (see `subnormal`). Bytes that cannot be walked go to ONNX Runtime
        // as they are, for it to explain what is wrong with them.
        match crate::subnormal::flush_weights(&mut bytes) {
            Ok(0) | Err(_) => {}
            Ok(n) => tracing::debug!(model = name, flushed = n, "subnormal weights set to zero"),
        }
        self.load_bytes(name, bytes)
    }

    /// Loads an ONNX model from memory (for graphs converted or built at run time).
    pub fn load_bytes(
        &self,
        name: &'static str,
        bytes: impl Into<Arc<[u8]>>,
    ) -> Result<OnnxModel, VisionError> {
        let bytes = bytes.into();
        let first = self.build_session(name, &bytes)?;
        let input_names = first
            .inputs()
            .iter()
            .map(|o| o.name().to_string())
            .collect();
        let output_names = first
            .outputs()
            .iter()
            .map(|o| o.name().to_string())
            .collect();
        Ok(OnnxModel {
            name,
            env: self.env.clone(),
            bytes,
            input_names,
            output_names,
            max_sessions: self.max_sessions,
            pool: Mutex::new(PoolState {
                idle: vec![first],
                created: 1,
            }),
            returned: Condvar::new(),
        })
    }

    fn build_session(&self, name: &'static str, bytes: &[u8]) -> Result<Session, VisionError> {
        build_session(&self.env, name, bytes)
    }
}

fn build_session(
    env: &ort::environment::Environment,
    name: &'static str,
    bytes: &[u8],
) -> Result<Session, VisionError> {
    let fail = |e: &dyn std::fmt::Display| VisionError::ModelMissing {
        model: name.into(),
        message: format!("onnxruntime rejected the model: {e}"),
    };
    Session::builder(env)
        .map_err(|e| fail(&e))?
        .with_optimization_level(GraphOptimizationLevel::Level3)
        .map_err(|e| fail(&e))?
        // Graph-cleanup warnings (unused initialisers in exported models) are noise for users.
        .with_log_level(ort::logging::LogLevel::Error)
        .map_err(|e| fail(&e))?
        .with_intra_threads(1)
        .map_err(|e| fail(&e))?
        .with_inter_threads(1)
        .map_err(|e| fail(&e))?
        .commit_from_memory(bytes)
        .map_err(|e| fail(&e))
}

struct PoolState {
    idle: Vec<Session>,
    created: usize,
}

/// One ONNX graph, runnable concurrently from many threads through `&self`.
pub struct OnnxModel {
    name: &'static str,
    env: ort::environment::Environment,
    bytes: Arc<[u8]>,
    input_names: Vec<String>,
    output_names: Vec<String>,
    max_sessions: usize,
    pool: Mutex<PoolState>,
    returned: Condvar,
}

impl std::fmt::Debug for OnnxModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxModel")
            .field("name", &self.name)
            .field("inputs", &self.input_names)
            .field("outputs", &self.output_names)
            .finish()
    }
}

/// Returns the session to the pool even when inference fails.
struct Checkout<'a> {
    model: &'a OnnxModel,
    session: Option<Session>,
}

impl Drop for Checkout<'_> {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            let mut pool = self.model.pool.lock().unwrap_or_else(|e| e.into_inner());
            pool.idle.push(session);
            drop(pool);
            self.model.returned.notify_one();
        }
    }
}

impl OnnxModel {
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Input names in the order [`OnnxModel::run`] expects them.
    pub fn input_names(&self) -> &[String] {
        &self.input_names
    }

    /// Output names in the order [`OnnxModel::run`] returns them.
    pub fn output_names(&self) -> &[String] {
        &self.output_names
    }

    /// Where the output called `output` is among those [`OnnxModel::run`] returns.
    pub fn output_position(&self, output: &str) -> Result<usize, VisionError> {
        self.output_names
            .iter()
            .position(|n| n == output)
            .ok_or_else(|| VisionError::ModelMissing {
                model: self.name.into(),
                message: format!("no output named {output}"),
            })
    }

    fn inference_error(&self, message: impl std::fmt::Display) -> VisionError {
        VisionError::Inference {
            model: self.name.into(),
            message: message.to_string(),
        }
    }

    fn checkout(&self) -> Result<Checkout<'_>, VisionError> {
        let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(session) = pool.idle.pop() {
                return Ok(Checkout {
                    model: self,
                    session: Some(session),
                });
            }
            if pool.created < self.max_sessions {
                pool.created += 1;
                drop(pool);
                return match build_session(&self.env, self.name, &self.bytes) {
                    Ok(session) => Ok(Checkout {
                        model: self,
                        session: Some(session),
                    }),
                    Err(e) => {
                        let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
                        pool.created -= 1;
                        Err(e)
                    }
                };
            }
            pool = self.returned.wait(pool).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Runs the graph on f32 inputs given in [`OnnxModel::input_names`] order and returns every
    /// output, in [`OnnxModel::output_names`] order, as f32. Blocks while all sessions are busy.
    pub fn run(&self, inputs: Vec<ArrayD<f32>>) -> Result<Vec<ArrayD<f32>>, VisionError> {
        if inputs.len() != self.input_names.len() {
            return Err(self.inference_error(format!(
                "expected {} inputs, got {}",
                self.input_names.len(),
                inputs.len()
            )));
        }
        let mut values = Vec::with_capacity(inputs.len());
        for (name, array) in self.input_names.iter().zip(inputs) {
            let tensor = Tensor::from_array(array).map_err(|e| self.inference_error(e))?;
            values.push((name.clone(), tensor));
        }
        let mut checkout = self.checkout()?;
        let Some(session) = checkout.session.as_mut() else {
            return Err(self.inference_error("session pool is empty"));
        };
        // Subnormal activations cost several times their arithmetic (see `subnormal`).
        let outputs = crate::subnormal::flush_to_zero(|| session.run(values))
            .map_err(|e| self.inference_error(e))?;
        let mut result = Vec::with_capacity(self.output_names.len());
        for name in &self.output_names {
            let value = outputs
                .get(name.as_str())
                .ok_or_else(|| self.inference_error(format!("missing output {name}")))?;
            let view = value
                .try_extract_array::<f32>()
                .map_err(|e| self.inference_error(format!("output {name}: {e}")))?;
            result.push(view.to_owned());
        }
        Ok(result)
    }

    /// [`OnnxModel::run`] for the common single-input case.
    pub fn run_one(&self, input: ArrayD<f32>) -> Result<Vec<ArrayD<f32>>, VisionError> {
        self.run(vec![input])
    }
}
