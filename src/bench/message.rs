//! What the threads following a run (pipe readers, log followers, the sampler) send to the
//! runner's loop. Its own file so that the runner and its helpers never import each other.

use super::record::{OutputLine, Sample};

/// What the runner reports while the run goes on (for a live progress line).
pub enum Event<'a> {
    Line(&'a OutputLine),
    Sample(&'a Sample),
}

pub(crate) enum Message {
    Line(OutputLine),
    Sample(Sample),
    /// A pipe of the child closed.
    Eof,
}
