//! The floor the scan is measured against: the same walk, reading every file on all cores and
//! doing nothing else; and, for a JSON Lines file, parsing each line into `serde_json::Value` on
//! all cores.
//!
//! Usage:
//!   `cargo run --release --example floor -- tree <DIR>`    walk and read every file
//!   `cargo run --release --example floor -- jsonl <FILE>`  parse each line into a Value

use std::io::BufRead;

use rayon::prelude::*;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match (args.get(1).map(String::as_str), args.get(2)) {
        (Some("tree"), Some(dir)) => {
            // Same walk as the scan: links followed, every regular file collected, then read
            // in parallel.
            let mut paths: Vec<_> = walkdir::WalkDir::new(dir)
                .follow_links(true)
                .into_iter()
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_file())
                .map(walkdir::DirEntry::into_path)
                .collect();
            paths.sort();
            let bytes: usize = paths
                .par_iter()
                .map(|p| std::fs::read(p).map_or(0, |b| b.len()))
                .sum();
            eprintln!("floor: read {} files, {bytes} bytes", paths.len());
        }
        (Some("jsonl"), Some(file)) => {
            let f = std::fs::File::open(file).expect("open");
            let lines: Vec<String> = std::io::BufReader::new(f)
                .lines()
                .map(|l| l.expect("read line"))
                .collect();
            let ok = lines
                .par_iter()
                .filter(|l| serde_json::from_str::<serde_json::Value>(l).is_ok())
                .count();
            eprintln!("floor: parsed {ok} of {} lines into Value", lines.len());
        }
        _ => {
            eprintln!("usage: floor tree <DIR> | floor jsonl <FILE>");
            std::process::exit(2);
        }
    }
}
