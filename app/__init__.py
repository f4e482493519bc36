"""Patch-DM Studio: the Gradio front end of patchdm_core, one module per tab.

    shared/     what the tabs share: the job queue and its Stop (jobs), the bridge to Gradio (events), cost
                estimates (cost), the history store (history), uploads and input checks (imaging), widgets,
                upload components, the server's middleware (serving), the base of the actions (actions)
    tabs/       one module per tab (generate, span, inpaint, outpaint, sketch, upscale, history): its layout,
                its actions and their input checks, its events and its cost
    studio.py   Studio and Events: every tab's actions and events on one object each
    page.py     the page: the tabs in order, Stop and Send to across tabs, the public endpoints in order
    main.py     start-up: flags, the model, the server (`patchdm-studio`, `python app.py`, `python -m app`)

Layers, bottom to top; a module imports only from its own part and the parts below it, and each module of
tabs/ is a part of its own, so no tab imports another (tests/app/test_app_layers.py reads this line):

    shared < tabs < studio < page < main

The package's `__init__` and `__main__` sit above them. The app paints only through patchdm_core's PatchDM
facade: it reads constants and helpers from its lower parts, never networks, training or metrics.
"""
