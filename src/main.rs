//! The `ma-registry` binary: `serve`, `admin …`, `client …`, `certs …`.

fn main() -> std::process::ExitCode {
    ma_registry::cli::main()
}
