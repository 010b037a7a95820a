"""The stack program: builds the secret chain for production, preview-base or preview-pr-<N>."""

from components.program import main

main()
