//! Places each segment of a transaction set in its guide's loop tree.
//!
//! The walker keeps one frame per open loop (which child it is at, how often each child has
//! occurred). For a new segment it searches forward in the innermost loop, then in each enclosing
//! loop, where a match on a loop's trigger opens a new loop or a new iteration. Frames are pooled,
//! so walking allocates nothing once the deepest loop has been seen.

use crate::segment::Segment;
use crate::spec::{Guide, LoopIndex, Node, SegmentIndex, Usage, segment_tag};

/// A structural problem the walker found while placing a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalkIssue {
    /// A required segment was skipped.
    MissingSegment(SegmentIndex),
    /// A required loop was skipped (reported on its trigger segment).
    MissingLoop(LoopIndex),
    /// A segment occurred more often than its maximum use.
    SegmentOverUsed(SegmentIndex),
    /// A loop occurred more often than its maximum repeat.
    LoopOverRepeated(LoopIndex),
    /// A segment the guide marks "not used" is present.
    SegmentNotUsed(SegmentIndex),
    /// A loop the guide marks "not used" is present.
    LoopNotUsed(LoopIndex),
}

/// Where a segment landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// The segment matched this spec; `closed` loops were ended and `opened` was begun to reach it.
    Found {
        /// The segment's spec.
        segment: SegmentIndex,
        /// How many loops were closed.
        closed: usize,
        /// The loop opened (or re-opened for a new iteration), if any.
        opened: Option<LoopIndex>,
    },
    /// No place in the guide fits the segment here; the walker stays where it was.
    NotFound,
}

#[derive(Debug, Clone, Default)]
struct Frame {
    loop_index: LoopIndex,
    child: usize,
    counts: Vec<u32>,
}

/// Walks one transaction set through a guide.
#[derive(Debug, Clone)]
pub struct LoopWalker<'g> {
    guide: &'g Guide,
    frames: Vec<Frame>,
    depth: usize,
}

impl<'g> LoopWalker<'g> {
    /// A walker positioned on the root loop's first child (the ST segment, already seen).
    pub fn new(guide: &'g Guide) -> Self {
        let mut walker = Self {
            guide,
            frames: vec![],
            depth: 0,
        };
        walker.push(0);
        walker
    }

    /// Starts over for the next transaction set, keeping the pooled frames.
    pub fn reset(&mut self, guide: &'g Guide) {
        self.guide = guide;
        self.depth = 0;
        self.push(0);
    }

    /// The guide being walked.
    pub fn guide(&self) -> &'g Guide {
        self.guide
    }

    /// Ids of the open loops, outermost first (the root `ST` excluded).
    pub fn loop_path(&self) -> impl Iterator<Item = LoopIndex> + '_ {
        self.frames[1..self.depth].iter().map(|f| f.loop_index)
    }

    /// The innermost open loop.
    pub fn current_loop(&self) -> LoopIndex {
        self.frames[self.depth - 1].loop_index
    }

    fn push(&mut self, loop_index: LoopIndex) {
        let n = self.guide.loops[loop_index].children.len();
        if self.frames.len() == self.depth {
            self.frames.push(Frame::default());
        }
        let frame = &mut self.frames[self.depth];
        frame.loop_index = loop_index;
        frame.child = 0;
        frame.counts.clear();
        frame.counts.resize(n, 0);
        frame.counts[0] = 1;
        self.depth += 1;
    }

    #[inline]
    fn matches(&self, node: Node, tag: u32, segment: &Segment<'_>) -> bool {
        let index = match node {
            Node::Segment(s) => s,
            Node::Loop(l) => match self.guide.trigger(l) {
                Some(s) => s,
                None => return false,
            },
        };
        let spec = &self.guide.segments[index];
        spec.tag == tag && spec.matches(segment)
    }

    /// Places `segment`, appending structural problems to `issues`.
    pub fn place(&mut self, segment: &Segment<'_>, issues: &mut Vec<WalkIssue>) -> Placement {
        let tag = segment_tag(segment.id());
        let is_hl = tag == segment_tag(b"HL");
        let mut found = None;
        'search: for d in (0..self.depth).rev() {
            let frame = &self.frames[d];
            let children = &self.guide.loops[frame.loop_index].children;
            // Child 0 is the loop's trigger: seen again, it starts the loop's next iteration, which
            // the enclosing frame finds.
            for (ci, &node) in children.iter().enumerate().skip(frame.child.max(1)) {
                if self.matches(node, tag, segment) {
                    found = Some((d, ci, node));
                    break 'search;
                }
            }
            // HL loops are ordered by the hierarchy (HL02), not by position: a provider level may
            // follow the subscribers of the previous provider, so an earlier sibling HL loop may
            // start again.
            if is_hl {
                for (ci, &node) in children.iter().enumerate().take(frame.child) {
                    if matches!(node, Node::Loop(_)) && self.matches(node, tag, segment) {
                        found = Some((d, ci, node));
                        break 'search;
                    }
                }
            }
        }
        let Some((d, ci, node)) = found else {
            return Placement::NotFound;
        };
        let closed = self.depth - d - 1;
        while self.depth > d + 1 {
            self.depth -= 1;
            self.report_missing(
                self.depth,
                self.frames[self.depth].child + 1,
                usize::MAX,
                issues,
            );
        }
        let from = self.frames[d].child + 1;
        self.report_missing(d, from, ci, issues);
        let frame = &mut self.frames[d];
        frame.child = ci;
        frame.counts[ci] += 1;
        let count = frame.counts[ci];
        match node {
            Node::Segment(s) => {
                let spec = &self.guide.segments[s];
                if spec.max_use.is_some_and(|m| count > m) {
                    issues.push(WalkIssue::SegmentOverUsed(s));
                }
                if spec.usage == Usage::NotUsed && count == 1 {
                    issues.push(WalkIssue::SegmentNotUsed(s));
                }
                Placement::Found {
                    segment: s,
                    closed,
                    opened: None,
                }
            }
            Node::Loop(l) => {
                let spec = &self.guide.loops[l];
                if spec.max_repeat.is_some_and(|m| count > m) {
                    issues.push(WalkIssue::LoopOverRepeated(l));
                }
                if spec.usage == Usage::NotUsed && count == 1 {
                    issues.push(WalkIssue::LoopNotUsed(l));
                }
                self.push(l);
                let trigger = self.guide.trigger(l).unwrap_or_default();
                Placement::Found {
                    segment: trigger,
                    closed,
                    opened: Some(l),
                }
            }
        }
    }

    /// Closes every open loop at the end of the transaction set, reporting what required content
    /// never came.
    pub fn finish(&mut self, issues: &mut Vec<WalkIssue>) {
        while self.depth > 0 {
            self.depth -= 1;
            self.report_missing(
                self.depth,
                self.frames[self.depth].child + 1,
                usize::MAX,
                issues,
            );
        }
    }

    /// Reports required children of frame `d`, in `from..to`, that never occurred.
    fn report_missing(&self, d: usize, from: usize, to: usize, issues: &mut Vec<WalkIssue>) {
        let frame = &self.frames[d];
        let children = &self.guide.loops[frame.loop_index].children;
        let to = to.min(children.len());
        if from >= to {
            return;
        }
        for (node, &count) in children[from..to].iter().zip(&frame.counts[from..to]) {
            if count > 0 {
                continue;
            }
            match *node {
                Node::Segment(s) if self.guide.segments[s].usage == Usage::Required => {
                    issues.push(WalkIssue::MissingSegment(s));
                }
                Node::Loop(l) if self.guide.loops[l].usage == Usage::Required => {
                    issues.push(WalkIssue::MissingLoop(l));
                }
                _ => {}
            }
        }
    }
}
