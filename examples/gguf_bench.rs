//! How long reading a GGUF file's metadata takes (what a models-directory scan pays per new or changed file).
//!
//! `cargo run --release --example gguf_bench -- FILE.gguf [ROUNDS]` prints the first (cold page cache
//! or not, as the machine has it) read and the best, median and worst of the following rounds.

use std::path::PathBuf;
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(args.next().ok_or("usage: gguf_bench FILE.gguf [ROUNDS]")?);
    let rounds: usize = args.next().map(|r| r.parse()).transpose()?.unwrap_or(50).max(1);
    let first = timed(&path)?;
    let mut times = (0..rounds).map(|_| timed(&path)).collect::<Result<Vec<_>, _>>()?;
    times.sort();
    let info = llama_dashboard::gguf::read_metadata(&path)?;
    println!("{}: {} key-value pairs, {} tensors", path.display(), info.metadata.len(), info.tensor_count);
    println!(
        "first read {first:?}; {rounds} rounds: best {:?}, median {:?}, worst {:?}",
        times[0],
        times[times.len() / 2],
        times[times.len() - 1]
    );
    Ok(())
}

fn timed(path: &std::path::Path) -> Result<Duration, llama_dashboard::gguf::GgufError> {
    let started = Instant::now();
    llama_dashboard::gguf::read_metadata(path)?;
    Ok(started.elapsed())
}
