//! Places each segment of a transaction set in its guide's loop tree.
//!
//! The walker keeps one frame per open loop (which child it is at, which children have occurred
//! and how often). For a new segment it searches forward in the innermost loop, then in each
//! enclosing loop, where a match on a loop's trigger opens a new loop or a new iteration. The
//! search compares integer tags from the loop's [`ChildIndex`](crate::spec::ChildIndex) and looks
//! at a segment spec only when a same-id child needs its key compared; skipped required children
//! are one mask operation. Frames are pooled, so walking allocates nothing once the deepest loop
//! has been seen.
#![allow(
    clippy::indexing_slicing,
    reason = "loop, segment and frame indices come from the guide's own tables and the walker's bounded stack"
)]

use crate::segment::Segment;
use crate::spec::{
    Guide, LoopIndex, Node, SegmentIndex, Usage, child_span, element_key, segment_tag,
};

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
    /// The child last matched.
    child: usize,
    /// Bit `i` set: child `i` has occurred in this iteration.
    seen: u64,
    /// Occurrences of each child; meaningful only where `seen` has its bit (so opening a frame
    /// clears one word, not the whole array).
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
        frame.seen = 1;
        if frame.counts.len() < n {
            frame.counts.resize(n, 0);
        }
        if let Some(first) = frame.counts.first_mut() {
            *first = 1;
        }
        self.depth += 1;
    }

    /// Whether child `ci` of `loop_index`, whose tag is the segment's, also has its key.
    /// `first` caches the key of the segment's first element, the one most keys read.
    #[inline]
    fn fits(
        &self,
        loop_index: LoopIndex,
        ci: usize,
        segment: &Segment<'_>,
        first: &mut Option<Option<u64>>,
    ) -> bool {
        let spec = &self.guide.loops[loop_index];
        if spec.index.keyed & (1 << ci) == 0 {
            return true;
        }
        match spec.index.keys.get(ci) {
            Some(key) if key.element == 1 => {
                key.holds(*first.get_or_insert_with(|| element_key(segment, 1)))
            }
            Some(key) if key.element > 1 => key.holds(element_key(segment, key.element)),
            _ => spec
                .children
                .get(ci)
                .and_then(|&node| self.guide.placing_segment(node))
                .is_some_and(|s| self.guide.segments[s].matches(segment)),
        }
    }

    /// The child of frame `d` that `segment` (whose id is number `id` of the guide's segment ids)
    /// continues, if any.
    #[inline]
    fn find(
        &self,
        d: usize,
        id: usize,
        is_hl: bool,
        segment: &Segment<'_>,
        first: &mut Option<Option<u64>>,
    ) -> Option<usize> {
        let frame = &self.frames[d];
        let index = &self.guide.loops[frame.loop_index].index;
        let same_id = index.by_id.get(id).copied().unwrap_or(0);
        // Child 0 is the loop's trigger: seen again, it starts the loop's next iteration, which
        // the enclosing frame finds.
        let mut ahead = same_id & !child_span(0, frame.child.max(1));
        while ahead != 0 {
            let ci = ahead.trailing_zeros() as usize;
            ahead &= ahead - 1;
            if self.fits(frame.loop_index, ci, segment, first) {
                return Some(ci);
            }
        }
        // The segments of one position (a run of same-id siblings) come in any order: an
        // earlier child of the current child's run may follow a later one.
        let run = usize::from(index.run_start.get(frame.child).copied().unwrap_or(0));
        let mut within = same_id & child_span(run, frame.child) & !index.loops;
        while within != 0 {
            let ci = within.trailing_zeros() as usize;
            within &= within - 1;
            if self.fits(frame.loop_index, ci, segment, first) {
                return Some(ci);
            }
        }
        // HL loops are ordered by the hierarchy (HL02), not by position: a provider level may
        // follow the subscribers of the previous provider, so an earlier sibling HL loop may
        // start again.
        if is_hl {
            let mut before = same_id & index.loops & child_span(0, frame.child);
            while before != 0 {
                let ci = before.trailing_zeros() as usize;
                before &= before - 1;
                if self.fits(frame.loop_index, ci, segment, first) {
                    return Some(ci);
                }
            }
        }
        None
    }

    /// Places `segment`, appending structural problems to `issues`.
    pub fn place(&mut self, segment: &Segment<'_>, issues: &mut Vec<WalkIssue>) -> Placement {
        self.place_tagged(segment, segment_tag(segment.id()), issues)
    }

    /// [`place`](Self::place) for a caller that already has the segment's [`segment_tag`].
    #[inline]
    pub fn place_tagged(
        &mut self,
        segment: &Segment<'_>,
        tag: u32,
        issues: &mut Vec<WalkIssue>,
    ) -> Placement {
        let is_hl = tag == segment_tag(b"HL");
        let Some(id) = self.guide.segment_ids.get(tag) else {
            return Placement::NotFound;
        };
        let mut first = None;
        let Some((d, ci)) = (0..self.depth).rev().find_map(|d| {
            self.find(d, id, is_hl, segment, &mut first)
                .map(|ci| (d, ci))
        }) else {
            return Placement::NotFound;
        };
        let node = self.guide.loops[self.frames[d].loop_index].children[ci];
        let closed = self.depth - d - 1;
        while self.depth > d + 1 {
            self.depth -= 1;
            self.report_missing(
                self.depth,
                self.run_of(self.depth, self.frames[self.depth].child),
                usize::MAX,
                issues,
            );
        }
        // Required children are missing once the walk has left their run: a run's segments may
        // still come in another order.
        let from = self.run_of(d, self.frames[d].child);
        let to = self.run_of(d, ci);
        self.report_missing(d, from, to, issues);
        let frame = &mut self.frames[d];
        frame.child = ci;
        let bit = 1u64 << ci;
        let count = if frame.seen & bit == 0 {
            1
        } else {
            frame.counts[ci] + 1
        };
        frame.seen |= bit;
        frame.counts[ci] = count;
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
                self.run_of(self.depth, self.frames[self.depth].child),
                usize::MAX,
                issues,
            );
        }
    }

    /// The first child of the run (same-id siblings at one position) holding child `ci` of
    /// frame `d`.
    #[inline]
    fn run_of(&self, d: usize, ci: usize) -> usize {
        let index = &self.guide.loops[self.frames[d].loop_index].index;
        usize::from(index.run_start.get(ci).copied().unwrap_or(0)).min(ci)
    }

    /// Reports required children of frame `d`, in `from..to`, that never occurred.
    #[inline]
    fn report_missing(&self, d: usize, from: usize, to: usize, issues: &mut Vec<WalkIssue>) {
        let frame = &self.frames[d];
        let spec = &self.guide.loops[frame.loop_index];
        let mut missing =
            spec.index.required & child_span(from, to.min(spec.children.len())) & !frame.seen;
        while missing != 0 {
            let ci = missing.trailing_zeros() as usize;
            missing &= missing - 1;
            issues.push(match spec.children[ci] {
                Node::Segment(s) => WalkIssue::MissingSegment(s),
                Node::Loop(l) => WalkIssue::MissingLoop(l),
            });
        }
    }
}
