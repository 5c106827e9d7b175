//! Admin console queries (stats).
