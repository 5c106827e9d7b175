//! Admin console pages: keys.
