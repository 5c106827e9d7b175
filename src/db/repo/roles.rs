//! Admin console queries (roles).
