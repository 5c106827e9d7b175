//! Admin console pages: clients.
