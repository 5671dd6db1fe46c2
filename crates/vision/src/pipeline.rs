//! [`Vision`]: every model the analysis uses, loaded once at start-up and shared.
//!
//! Required models (detector, eye landmarks, the default embedder, Faceplugin PAD) must be in the
//! store or loading fails with the store's "run `livegate models fetch`" message. Livegate's own
//! PAD model is compiled into the binary. Optional ones (MiniFASNet, which is not in any
//! package registry) are used when present. Models load on
//! scoped threads: session creation is CPU-bound and the machine usually has cores to spare at
//! start-up.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::blazeface::{BlazeFace, DetectorConfig};
use crate::embedder::{self, EmbedderKind};
use crate::face::{Embedder, EyeModel, FaceDetector, LandmarkModel, PadModel, VisionError};
use crate::iris::IrisEyes;
use crate::mesh::FaceMesh;
use crate::pad::minifasnet::Variant;
use crate::pad::{FrLiveness, LivegatePad, MiniFasNet};
use crate::provision::ModelStore;
use crate::runtime::Runtime;

#[derive(Debug, Clone, Copy)]
pub struct VisionOptions {
    pub detector: DetectorConfig,
    pub embedder: EmbedderKind,
}

impl Default for VisionOptions {
    fn default() -> Self {
        VisionOptions {
            detector: DetectorConfig::default(),
            embedder: embedder::DEFAULT,
        }
    }
}

#[derive(Clone)]
pub struct Vision {
    pub runtime: Arc<Runtime>,
    pub detector: Arc<dyn FaceDetector>,
    pub eyes: Arc<dyn EyeModel>,
    pub embedder: Arc<dyn Embedder>,
    /// The face mesh, for motion geometry; `None` when it is not installed.
    pub mesh: Option<Arc<dyn LandmarkModel>>,
    /// Every PAD model that loaded, Livegate's own first. Combine them with
    /// [`crate::pad::Ensemble`] and the policy's weights.
    pub pad: Vec<Arc<dyn PadModel>>,
    /// Wall time of [`Vision::load`].
    pub load_time: Duration,
    /// Per-model load time, in load order.
    pub load_times: Vec<(&'static str, Duration)>,
}

impl std::fmt::Debug for Vision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vision")
            .field("embedder", &self.embedder.name())
            .field("pad", &self.pad_names())
            .field("load_time", &self.load_time)
            .finish_non_exhaustive()
    }
}

type Loaded<T> = Result<(T, Duration), VisionError>;

fn join<T>(result: std::thread::Result<Loaded<T>>) -> Loaded<T> {
    result.unwrap_or_else(|_| {
        Err(VisionError::Inference {
            model: "vision".into(),
            message: "a model loader panicked".into(),
        })
    })
}

fn timed<T>(load: impl FnOnce() -> Result<T, VisionError>) -> Loaded<T> {
    let started = Instant::now();
    load().map(|v| (v, started.elapsed()))
}

impl Vision {
    pub fn load(store: &ModelStore) -> Result<Vision, VisionError> {
        Self::load_with(store, &VisionOptions::default())
    }

    pub fn load_with(store: &ModelStore, options: &VisionOptions) -> Result<Vision, VisionError> {
        let started = Instant::now();
        let runtime = Runtime::from_store(store)?;
        let rt = &*runtime;
        let (detector, eyes, embedder, own, fr, v2, v1se, mesh) = std::thread::scope(|s| {
            // The slowest (the dlib graph is built from its weights) goes first.
            let embedder = s.spawn(|| timed(|| options.embedder.load(rt, store)));
            let detector = s.spawn(|| {
                timed(|| BlazeFace::load(rt, store).map(|d| d.with_config(options.detector)))
            });
            let eyes = s.spawn(|| timed(|| IrisEyes::load(rt, store)));
            let mesh = s.spawn(|| timed(|| FaceMesh::load(rt, store)));
            let own = timed(|| LivegatePad::load(rt));
            let fr = timed(|| FrLiveness::load(rt, store));
            let v2 = timed(|| MiniFasNet::load(rt, store, Variant::V2));
            let v1se = timed(|| MiniFasNet::load(rt, store, Variant::V1Se));
            (
                join(detector.join()),
                join(eyes.join()),
                join(embedder.join()),
                own,
                fr,
                v2,
                v1se,
                join(mesh.join()),
            )
        });
        let mut load_times = Vec::new();
        let (detector, t) = detector?;
        load_times.push(("blazeface", t));
        let (eyes, t) = eyes?;
        load_times.push(("iris", t));
        let (embedder, t) = embedder?;
        let embedder: Arc<dyn Embedder> = Arc::from(embedder);
        load_times.push((embedder.name(), t));
        let (own, t) = own?;
        load_times.push((crate::identity::PadId::LivegatePad.name(), t));
        let (fr, t) = fr?;
        load_times.push(("fr_liveness", t));
        let mut pad: Vec<Arc<dyn PadModel>> = vec![Arc::new(own), Arc::new(fr)];
        for (variant, loaded) in [(Variant::V2, v2), (Variant::V1Se, v1se)] {
            match loaded {
                Ok((model, t)) => {
                    load_times.push((variant.name(), t));
                    pad.push(Arc::new(model));
                }
                Err(e) => tracing::info!("optional PAD model {} not used: {e}", variant.name()),
            }
        }
        let mesh: Option<Arc<dyn LandmarkModel>> = match mesh {
            Ok((m, t)) => {
                load_times.push(("face_mesh", t));
                Some(Arc::new(m))
            }
            Err(e) => {
                tracing::info!("face mesh not used (no motion evidence): {e}");
                None
            }
        };
        Ok(Vision {
            runtime,
            mesh,
            detector: Arc::new(detector),
            eyes: Arc::new(eyes),
            embedder,
            pad,
            load_time: started.elapsed(),
            load_times,
        })
    }

    pub fn pad_names(&self) -> Vec<&'static str> {
        self.pad.iter().map(|m| m.name()).collect()
    }

    /// The PAD model called `name` (see [`PadModel::name`]), if loaded.
    pub fn pad_model(&self, name: &str) -> Option<Arc<dyn PadModel>> {
        self.pad.iter().find(|m| m.name() == name).cloned()
    }
}
