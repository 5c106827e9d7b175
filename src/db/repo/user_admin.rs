//! Admin console queries (user_admin).
