use std::process::ExitCode;

fn main() -> ExitCode {
    fixed_mmap_threshold();
    latchkey::cli::main()
}

/// glibc raises its mmap threshold each time a large block is freed; from then on blocks of
/// that size (argon2's 19 MiB) come from malloc's heaps and stay resident after they are
/// freed. A fixed threshold keeps every block of 1 MiB or more in a mapping of its own that
/// goes back to the system when freed, so memory after a sign-in storm returns to idle.
fn fixed_mmap_threshold() {
    // SAFETY: mallopt only tunes the allocator, and runs before any other thread exists.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}
