//! Admin console pages: users.
