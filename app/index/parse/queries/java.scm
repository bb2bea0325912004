; Tag query for Java (Aider repomap capture style).

(class_declaration
  name: (identifier) @name.definition.class) @definition.class

(record_declaration
  name: (identifier) @name.definition.class) @definition.class

(interface_declaration
  name: (identifier) @name.definition.interface) @definition.interface

(annotation_type_declaration
  name: (identifier) @name.definition.interface) @definition.interface

(enum_declaration
  name: (identifier) @name.definition.enum) @definition.enum

(method_declaration
  name: (identifier) @name.definition.method) @definition.method

(constructor_declaration
  name: (identifier) @name.definition.method) @definition.method

(field_declaration
  (modifiers) @_mods
  declarator: (variable_declarator
    name: (identifier) @name.definition.constant) @definition.constant
  (#match? @_mods "static")
  (#match? @_mods "final"))

; References.

(method_invocation
  name: (identifier) @name.reference.call) @reference.call

(object_creation_expression
  type: (_) @name.reference.new) @reference.new

(superclass (_) @reference.inherit)

(super_interfaces (type_list (_) @reference.inherit))

(extends_interfaces (type_list (_) @reference.inherit))

(import_declaration) @reference.import
