//! Whether an output a command is about to write is one of its inputs.

/// Whether two paths name one file (both must exist to be the same; symbolic links and `.`
/// components resolved).
pub fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}
