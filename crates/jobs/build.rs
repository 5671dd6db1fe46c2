// `sqlx::migrate!` embeds `migrations/postgres` at compile time, but on stable Rust cargo does
// not know the macro read that folder: without this, a new migration file would not be built in.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
