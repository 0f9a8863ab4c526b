//! portal-sim: see issue #3.
