// esbuild bundles CSS imported from the popovers into dist/windows/app.css.
declare module '*.css';
