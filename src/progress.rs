//! The progress display's parts: the style (counts, a rate people can read, an ETA only once it
//! means something), and for `--progress always` into a non-terminal (a CI log, a file) a target
//! that writes a plain line every few seconds instead of `\r` frames.

use std::io::{self, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressDrawTarget, ProgressState, ProgressStyle, TermLike};

/// How often a log gets a progress line.
const LOG_EVERY: Duration = Duration::from_secs(5);

/// Before this much time has passed, or this share of the work is done, an ETA is a guess.
const ETA_AFTER: Duration = Duration::from_secs(3);
const ETA_AFTER_SHARE: f64 = 0.05;

/// Standard error as a log: the latest frame is kept and written as one line, at most every
/// [`LOG_EVERY`]; cursor movements and clears are dropped.
#[derive(Debug)]
struct LogLines {
    state: Mutex<LogState>,
}

#[derive(Debug)]
struct LogState {
    frame: String,
    last: Option<Instant>,
    started: Instant,
}

impl LogLines {
    fn frame(&self, s: &str) {
        if let Ok(mut st) = self.state.lock() {
            st.frame.clear();
            st.frame.push_str(s.trim_end());
        }
    }
}

impl TermLike for LogLines {
    fn width(&self) -> u16 {
        // Wide enough that a frame is never cut; a log has no width.
        200
    }

    fn move_cursor_up(&self, _: usize) -> io::Result<()> {
        Ok(())
    }

    fn move_cursor_down(&self, _: usize) -> io::Result<()> {
        Ok(())
    }

    fn move_cursor_right(&self, _: usize) -> io::Result<()> {
        Ok(())
    }

    fn move_cursor_left(&self, _: usize) -> io::Result<()> {
        Ok(())
    }

    fn write_line(&self, s: &str) -> io::Result<()> {
        self.frame(s);
        Ok(())
    }

    fn write_str(&self, s: &str) -> io::Result<()> {
        self.frame(s);
        Ok(())
    }

    fn clear_line(&self) -> io::Result<()> {
        Ok(())
    }

    fn flush(&self) -> io::Result<()> {
        let Ok(mut st) = self.state.lock() else {
            return Ok(());
        };
        let due = match st.last {
            Some(t) => t.elapsed() >= LOG_EVERY,
            // The first line once the run has gone on a while: a quick run logs nothing.
            None => st.started.elapsed() >= LOG_EVERY,
        };
        if due && !st.frame.is_empty() {
            st.last = Some(Instant::now());
            let line = format!("{}\n", st.frame);
            io::stderr().lock().write_all(line.as_bytes())?;
        }
        Ok(())
    }
}

/// Standard error as a log (see `LogLines`).
pub fn log_lines() -> ProgressDrawTarget {
    ProgressDrawTarget::term_like_with_hz(
        Box::new(LogLines {
            state: Mutex::new(LogState {
                frame: String::new(),
                last: None,
                started: Instant::now(),
            }),
        }),
        1,
    )
}

/// The progress style. `total_known`: the number of files is known before the first is read
/// (files named on the command line), so a bar and, once meaningful, an ETA are shown; otherwise
/// (a folder still being walked, its total growing) counts and a rate only.
pub fn style(total_known: bool) -> Option<ProgressStyle> {
    let template = if total_known {
        "{spinner} [{bar:30}] {pos}/{len} files, {msg}, {rate}{eta_if_known}"
    } else {
        "{spinner} {pos} files done ({len} found so far), {msg}, {rate}"
    };
    let style = ProgressStyle::with_template(template).ok()?;
    Some(
        style
            .progress_chars("=> ")
            .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{}", rate(s.per_sec()));
            })
            .with_key(
                "eta_if_known",
                |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                    if let Some(eta) = eta(s) {
                        let _ = write!(w, ", about {eta} left");
                    }
                },
            ),
    )
}

/// Files per second, to a precision a person reads: `0.4 files/s`, `37 files/s`,
/// `25,408 files/s`.
pub fn rate(per_sec: f64) -> String {
    if !per_sec.is_finite() || per_sec <= 0.0 {
        return "– files/s".into();
    }
    if per_sec < 10.0 {
        format!("{per_sec:.1} files/s")
    } else {
        format!("{} files/s", thousands(per_sec.round() as u64))
    }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The time left, once enough time has passed and enough is done for a rate to hold.
fn eta(s: &ProgressState) -> Option<String> {
    let len = s.len()?;
    if len == 0 || s.elapsed() < ETA_AFTER || (s.pos() as f64) < ETA_AFTER_SHARE * len as f64 {
        return None;
    }
    let secs = s.eta().as_secs();
    Some(if secs < 60 {
        format!("{secs} s")
    } else {
        format!("{} min {} s", secs / 60, secs % 60)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_rounded_for_people() {
        assert_eq!(rate(25_407.883_1), "25,408 files/s");
        assert_eq!(rate(1_234_567.0), "1,234,567 files/s");
        assert_eq!(rate(37.4), "37 files/s");
        assert_eq!(rate(0.44), "0.4 files/s");
        assert_eq!(rate(0.0), "– files/s");
        assert_eq!(rate(f64::NAN), "– files/s");
    }

    #[test]
    fn a_log_gets_no_carriage_return_frames() {
        let log = LogLines {
            state: Mutex::new(LogState {
                frame: String::new(),
                last: None,
                started: Instant::now(),
            }),
        };
        log.clear_line().expect("clear");
        log.write_str("⠁ 10 files done").expect("write");
        log.write_str("⠂ 20 files done").expect("write");
        let st = log.state.lock().expect("lock");
        assert_eq!(st.frame, "⠂ 20 files done");
        assert!(!st.frame.contains('\r'));
    }
}
