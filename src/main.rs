//! The `podlab` command line; everything it does lives in the library (`podlab::cli`).

fn main() -> std::process::ExitCode {
    podlab::cli::main()
}
