//! What the threads following a run (pipe readers, log followers, the sampler) send to the
//! runner's loop. Its own file so that the runner and its helpers never import each other.

use super::record::{OutputLine, Sample};

pub(crate) enum Message {
    Line(OutputLine),
    Sample(Sample),
    /// A pipe of the child closed.
    Eof,
}
