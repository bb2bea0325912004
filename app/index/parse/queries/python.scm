; Tag query for Python (Aider repomap capture style).
; Definitions: @definition.<kind> on the node, @name.definition.<kind> on its name.

(class_definition
  name: (identifier) @name.definition.class) @definition.class

(function_definition
  name: (identifier) @name.definition.function) @definition.function

(module
  (expression_statement
    (assignment
      left: (identifier) @name.definition.constant) @definition.constant)
  (#match? @name.definition.constant "^_*[A-Z][A-Z0-9_]*$"))

; References: calls, base classes, imports.

(call
  function: (_) @name.reference.call) @reference.call

(class_definition
  superclasses: (argument_list (_) @reference.inherit))

(import_statement) @reference.import

(import_from_statement) @reference.import
