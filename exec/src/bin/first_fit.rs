//! A first-fit policy over the exec protocol ([`podlab_exec::first_fit::FirstFit`]): each
//! pending pod, in arrival order, goes to the first node (by id) with room for its CPU, memory
//! and a pod slot. Run by podlab as `exec:first-fit=podlab-exec-first-fit`.

use podlab_exec::client::serve;
use podlab_exec::first_fit::FirstFit;

fn main() {
    if let Err(e) = serve(&mut FirstFit::default()) {
        eprintln!("first-fit: {e}");
        std::process::exit(1);
    }
}
