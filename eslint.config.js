import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/**
 * A small rule set, type-aware: promises are awaited (or explicitly `void`ed), nothing unused is
 * left behind, type-only imports say so. The type checker (`npm run typecheck`) does the rest.
 */
export default defineConfig(
  { ignores: ['node_modules/', 'cdk.out/', '.parley/', 'bench/results/', 'client/dist/', 'web/dist/'] },
  {
    files: ['**/*.ts', '**/*.js'],
    extends: [tseslint.configs.base],
    languageOptions: { parserOptions: { projectService: { allowDefaultProject: ['*.js', 'web/sw.js'] }, tsconfigRootDir: import.meta.dirname } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      'no-unused-private-class-members': js.configs.all.rules['no-unused-private-class-members'],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { args: 'after-used', argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      '@typescript-eslint/no-import-type-side-effects': 'error',
    },
  },
);
