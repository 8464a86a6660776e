fn main() -> std::process::ExitCode {
    reportctl::main()
}

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
