use vision::ModelId;
fn main() {
    let store = vision::ModelStore::open_default().unwrap();
    let rt = vision::Runtime::from_store(&store).unwrap();
    for (id, shape) in [(ModelId::MiniFasNetV2, [1usize, 3, 80, 80]), (ModelId::FrLiveness, [1, 3, 128, 128]), (ModelId::BlazeFaceFull, [1, 192, 192, 3])] {
        let m = rt.load("m", &store.path(id).unwrap()).unwrap();
        let x = ndarray::ArrayD::<f32>::from_elem(ndarray::IxDyn(&shape), 0.5);
        for _ in 0..10 { m.run_one(x.clone()).unwrap(); }
        let t = std::time::Instant::now();
        for _ in 0..100 { m.run_one(x.clone()).unwrap(); }
        println!("{id} run_one {:?}", t.elapsed() / 100);
    }
}
