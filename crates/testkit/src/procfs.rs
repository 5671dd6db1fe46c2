//! A process's memory and CPU as Linux reports them in `/proc`, for tests and benchmarks that
//! measure a server (this process, or a `livegate serve` child).

/// `"self"` or a process id, as the `/proc/<which>/` folder is named.
pub fn status_kb(which: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{which}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resets the peak resident set (`VmHWM`) to the current one, so a later reading covers only
/// what ran in between. `false` where the kernel does not offer it.
pub fn reset_peak_rss(which: &str) -> bool {
    std::fs::write(format!("/proc/{which}/clear_refs"), "5").is_ok()
}

/// User + system CPU time the process has used so far, all its threads together.
pub fn cpu_time(which: &str) -> Option<std::time::Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{which}/stat")).ok()?;
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis
    // start with field 3, so utime and stime (fields 14 and 15) are the 12th and 13th there.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    // In clock ticks of USER_HZ, which Linux fixes at 100 for user space on every mainstream
    // architecture (sysconf(_SC_CLK_TCK)); not worth a libc dependency to ask.
    Some(std::time::Duration::from_millis((utime + stime) * 10))
}
