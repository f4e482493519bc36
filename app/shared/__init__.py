"""What the app's tabs share: the job queue, events plumbing, cost estimates, history store, imaging helpers,
widgets and components, the server's middleware. May import patchdm_core and other shared modules, never a
tab or anything above."""
